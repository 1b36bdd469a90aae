"""The console's local cache: the incidents this user may see, the outbox of commands not yet
acknowledged, the conflict inbox, and where the sync stands.

Optimistic commands: when an operator acts, the command and its local effect are written in
one transaction; the server's copy of the incident is kept aside in ``shadow`` until every
pending command on it is settled. Server changes to such an incident go to the shadow and the
pending commands are replayed on top (a rebase), so the operator always sees the server's
truth plus their own pending work; a rejected command simply drops out of the replay.

Two files. ``NAME.db`` holds what only this console has: the outbox, the conflict inbox and
settings. ``NAME.replica.db`` (attached as ``replica``) holds the copy of the server's data:
incidents, shadow and the sync position. A snapshot is built into a new replica file with no
journal and no secondary indexes (the fastest way SQLite loads a million rows), indexed at the
end, and swapped in whole: until then the console keeps working on the old copy, and a crash
mid-way leaves the old copy as it was. A crash between the two files' commits is mended by
:meth:`ConsoleCache.repair` at start.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import msgspec
from sqlalchemy import (
    Column,
    Engine,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
)

from app.domain.devices import Device
from app.domain.model import OPEN_STATUSES, Incident, Status
from app.domain.records import FIELDS, Record, from_record, to_record
from app.storage.schema import incidents_table
from comms.protocol.messages import Command

replica_metadata = MetaData()
incidents = incidents_table(replica_metadata)
shadow = Table(
    "shadow",
    replica_metadata,
    *(Column(c.name, c.type, primary_key=c.primary_key, nullable=c.nullable, autoincrement=False) for c in incidents.c),
)
replica_meta = Table(
    "replica_meta",
    replica_metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

metadata = MetaData()
outbox = Table(
    "outbox",
    metadata,
    Column("n", Integer, primary_key=True, autoincrement=True),
    Column("key", String(64), nullable=False, unique=True),
    Column("incident_id", Integer, nullable=False, index=True),
    Column("command", Text, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
)
conflicts = Table(
    "conflicts",
    metadata,
    Column("n", Integer, primary_key=True, autoincrement=True),
    Column("key", String(64), nullable=False),
    Column("incident_id", Integer, nullable=False),
    Column("command", Text, nullable=False),
    Column("code", String(32), nullable=False),
    Column("reason", Text, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("rejected_at", Float, nullable=False),
    Column("resolved", Integer, nullable=False, default=0),
)
devices = Table(
    "devices",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("street", String(16), nullable=False),
    Column("state", String(16), nullable=False),
    Column("record", Text, nullable=False),
)
"""The field devices this user sees, as the server last sent them (kept in the main file: a
few thousand rows, replaced whole at each session's start, shown offline too)."""

meta = Table(
    "meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

log = logging.getLogger(__name__)

_COLS = ", ".join(FIELDS)
_MARKS = ", ".join("?" for _ in FIELDS)
_INSERT = f"INSERT OR REPLACE INTO incidents ({_COLS}) VALUES ({_MARKS})"
_UPSERT_NEWER = (
    f"INSERT INTO incidents ({_COLS}) VALUES ({_MARKS}) ON CONFLICT(id) DO UPDATE SET "
    + ", ".join(f"{f}=excluded.{f}" for f in FIELDS if f != "id")
    + " WHERE excluded.seq >= incidents.seq"
)
_SHADOW_UPSERT = f"INSERT OR REPLACE INTO shadow ({_COLS}) VALUES ({_MARKS})"
_SHADOW_UPSERT_NEWER = (
    f"INSERT INTO shadow ({_COLS}) VALUES ({_MARKS}) ON CONFLICT(id) DO UPDATE SET "
    + ", ".join(f"{f}=excluded.{f}" for f in FIELDS if f != "id")
    + " WHERE excluded.seq >= shadow.seq"
)
#: The rows of the open incidents, as literal terms: a query can use a partial index only when its
#: WHERE clause repeats the index's own terms (bound parameters would not do).
OPEN_PREDICATE: Final = " AND ".join(f"status <> '{s.value}'" for s in sorted(set(Status) - OPEN_STATUSES))
#: The console's own indexes, for the incident board (:mod:`app.services.board`); the server
#: has no use for them (so they are not in the shared schema). ``ix_board_open``: the open
#: incidents in deadline order, covering the board's filters and its usual sorts, so that the
#: default board (open incidents by deadline) is read in order from the index alone. Partial,
#: because a console's cache is mostly closed incidents: it costs little to build and to keep.
BOARD_INDEXES: Final = (("ix_board_open", "deadline, status, severity, street, category, updated_at", OPEN_PREDICATE),)
_command_encoder = msgspec.json.Encoder()
_command_decoder = msgspec.json.Decoder(Command)
_device_encoder = msgspec.json.Encoder()
_device_decoder = msgspec.json.Decoder(Device)


@dataclass(frozen=True)
class PendingCommand:
    n: int
    command: Command
    created_at: float
    attempts: int


@dataclass(frozen=True)
class Conflict:
    """A command the server rejected, for the operator to look at and resolve."""

    n: int
    command: Command
    code: str
    reason: str
    created_at: float
    rejected_at: float


Rebase = Callable[[Incident, Command], Incident]
"""Replays a pending command on an incident (the domain workflow with the operator's
identity); raises when it no longer applies."""


def replica_path(path: Path) -> Path:
    """The replica file beside a cache file."""
    return path.with_name(path.stem + ".replica.db")


def create_replica(path: Path, indexes: bool = True) -> None:
    """Create an empty replica file (the incidents schema), with or without its secondary
    indexes."""
    engine = create_engine(f"sqlite:///{path}")
    replica_metadata.create_all(engine)
    with engine.begin() as conn:
        if indexes:
            for statement in board_index_statements():
                conn.exec_driver_sql(statement)
        else:
            for index in incidents.indexes:
                conn.exec_driver_sql(f"DROP INDEX IF EXISTS {index.name}")
    engine.dispose()


def board_index_statements(schema: str = "") -> list[str]:
    """The statements that create the board's indexes where they are missing; ``schema`` is
    the prefix of an attached database (``"replica."``) or empty."""
    return [
        f"CREATE INDEX IF NOT EXISTS {schema}{name} ON incidents ({columns}) WHERE {where}"
        for name, columns, where in BOARD_INDEXES
    ]


def _boot_id() -> str:
    """An id of this boot of the machine (Linux), to tell a crashed process from a crashed OS."""
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return "unknown-boot"


def _remove_sqlite_file(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(str(path) + suffix).unlink(missing_ok=True)


class ConsoleCache:
    """The SQLite cache of one console. All methods are blocking and meant to run on the
    cache's own worker thread; :class:`app.services.sync.SyncService` sees to that."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.replica = replica_path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        self._check_replica_after_crash()
        if not self.replica.exists():
            create_replica(self.replica)
        self.engine: Engine = create_engine(f"sqlite:///{path}", connect_args={"check_same_thread": False})
        replica = str(self.replica)

        @event.listens_for(self.engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("ATTACH DATABASE ? AS replica", (replica,))
            cursor.execute("PRAGMA main.journal_mode=WAL")
            cursor.execute("PRAGMA replica.journal_mode=WAL")
            # The outbox (main) survives a killed process with NORMAL, and its own writes are
            # made FULL (``durable``) to survive a power cut too. The replica is a copy of the
            # server's data: it never waits for the disk, survives a killed process all the
            # same (WAL), and is thrown away and fetched again after an OS crash (see
            # _check_replica_after_crash).
            cursor.execute("PRAGMA main.synchronous=NORMAL")
            cursor.execute("PRAGMA replica.synchronous=OFF")
            # Checkpoints run beside the writes (ConsoleCache.checkpoint), not inside the commit
            # that crosses the threshold, where they would hold up applying live changes.
            cursor.execute("PRAGMA wal_autocheckpoint=0")
            cursor.close()

        metadata.create_all(self.engine)
        self._lock = threading.Lock()
        with self._tx() as cur:
            session = f"open:{_boot_id()}"
            cur.execute("INSERT OR REPLACE INTO replica_meta (key, value) VALUES ('session', ?)", (session,))
            # A replica made before the board's indexes existed gets them once, here.
            for statement in board_index_statements("replica."):
                cur.execute(statement)
        self._builder: sqlite3.Connection | None = None
        self._builder_path = self.replica.with_name(self.replica.name + ".new")

    def close(self) -> None:
        if self._builder is not None:
            self._builder.close()
            self._builder = None
            _remove_sqlite_file(self._builder_path)
        with self._tx() as cur:
            cur.execute("INSERT OR REPLACE INTO replica_meta (key, value) VALUES ('session', 'closed')")
        self.engine.dispose()

    def _check_replica_after_crash(self) -> None:
        """Discard the replica when the machine went down while it was open: its writes do not
        wait for the disk, so after an OS crash or power cut it may be damaged. (A killed
        process loses nothing: that is WAL's promise without fsync.) The next sync fetches a
        fresh snapshot; the outbox, in the other file, is untouched."""
        if not self.replica.exists():
            return
        try:
            conn = sqlite3.connect(self.replica, timeout=5.0)
            try:
                row = conn.execute("SELECT value FROM replica_meta WHERE key = 'session'").fetchone()
            finally:
                conn.close()
        except sqlite3.DatabaseError:
            row = ("open:unreadable",)
        if row is not None and str(row[0]).startswith("open:") and str(row[0]) != f"open:{_boot_id()}":
            log.warning("the replica %s was open when the machine went down; fetching a fresh copy", self.replica)
            _remove_sqlite_file(self.replica)

    def checkpoint(self) -> None:
        """Copy both write-ahead logs into their databases, beside the writes (a passive
        checkpoint never waits for them). Safe to call from any thread."""
        for path in (self.path, self.replica):
            if self._builder is not None and path == self.replica:
                continue
            conn = sqlite3.connect(path, timeout=1.0)
            try:
                conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
            finally:
                conn.close()

    def _raw(self) -> Any:
        return self.engine.raw_connection()

    def _tx(self, durable: bool = False) -> _Tx:
        return _Tx(self, durable)

    # -- meta --------------------------------------------------------------------------------
    def get_meta(self, key: str, default: str = "") -> str:
        with self._tx() as cur:
            row = cur.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return default if row is None else str(row[0])

    def set_meta(self, values: dict[str, str]) -> None:
        with self._tx() as cur:
            cur.executemany("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", list(values.items()))

    def _replica_meta(self, key: str, default: str) -> str:
        with self._tx() as cur:
            row = cur.execute("SELECT value FROM replica_meta WHERE key = ?", (key,)).fetchone()
        return default if row is None else str(row[0])

    @property
    def last_seq(self) -> int:
        """The last change of the server's log that the replica holds."""
        return int(self._replica_meta("last_seq", "0"))

    @property
    def last_sync_at(self) -> float | None:
        value = self._replica_meta("last_sync_at", "")
        return float(value) if value else None

    # -- applying what the server sends --------------------------------------------------------
    def begin_snapshot(self) -> None:
        """Start building a new replica beside the current one, which stays readable."""
        if self._builder is not None:
            self._builder.close()
        _remove_sqlite_file(self._builder_path)
        create_replica(self._builder_path, indexes=False)
        builder = sqlite3.connect(self._builder_path, check_same_thread=False)
        # No journal and no fsync: the file is thrown away if anything goes wrong before it
        # is complete, and synced once, whole, before it replaces the current replica.
        builder.execute("PRAGMA journal_mode=OFF")
        builder.execute("PRAGMA synchronous=OFF")
        builder.execute("PRAGMA cache_size=-65536")
        self._builder = builder

    def insert_snapshot(self, records: Sequence[Record]) -> None:
        """Add a snapshot chunk to the replica being built."""
        if self._builder is None:
            raise RuntimeError("insert_snapshot without begin_snapshot")
        self._builder.executemany(_INSERT, records)

    def end_snapshot(self, seq: int, rebase: Rebase) -> set[int]:
        """Index the new replica, make it durable, swap it in, and replay the pending
        commands on it. Returns the ids of incidents with pending commands."""
        builder = self._builder
        if builder is None:
            raise RuntimeError("end_snapshot without begin_snapshot")
        for index in incidents.indexes:
            columns = ", ".join(c.name for c in index.columns)
            builder.execute(f"CREATE INDEX {index.name} ON incidents ({columns})")
        for statement in board_index_statements():
            builder.execute(statement)
        builder.executemany(
            "INSERT OR REPLACE INTO replica_meta (key, value) VALUES (?, ?)",
            [("last_seq", str(seq)), ("last_sync_at", str(time.time()))],
        )
        builder.commit()
        builder.execute("PRAGMA journal_mode=DELETE")
        builder.close()
        self._builder = None
        with open(self._builder_path, "rb+") as f:
            os.fsync(f.fileno())
        with self._lock:
            self.engine.dispose()  # every connection to the old replica is closed
            for suffix in ("-wal", "-shm", "-journal"):
                Path(str(self.replica) + suffix).unlink(missing_ok=True)
            os.replace(self._builder_path, self.replica)
            dir_fd = os.open(self.replica.parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
        return self.repair(rebase)

    def apply_changes(self, records: Sequence[Record], upto: int, rebase: Rebase) -> list[int]:
        """Apply server changes up to change ``upto`` in one transaction; returns changed ids."""
        with self._tx() as cur:
            pending = self._pending_ids(cur)
            plain = [r for r in records if r[0] not in pending]
            if plain:
                cur.executemany(_UPSERT_NEWER, plain)
            self._rebase_pending(cur, [r for r in records if r[0] in pending], rebase)
            cur.executemany(
                "INSERT OR REPLACE INTO replica_meta (key, value) VALUES (?, ?)",
                [("last_seq", str(upto)), ("last_sync_at", str(time.time()))],
            )
        return [r[0] for r in records]

    def repair(self, rebase: Rebase) -> set[int]:
        """Bring every incident with pending commands, or with a shadow, to server state plus
        pending commands: after a new replica, and at start after a crash between the two
        files' commits. Returns the ids it touched."""
        with self._tx() as cur:
            pending = self._pending_ids(cur)
            shadowed = {int(r[0]) for r in cur.execute("SELECT id FROM shadow")}
            for incident_id in pending - shadowed:
                row = cur.execute(f"SELECT {_COLS} FROM incidents WHERE id = ?", (incident_id,)).fetchone()
                if row is not None:
                    cur.execute(_SHADOW_UPSERT, row)
            for incident_id in pending:
                self._replay(cur, incident_id, rebase)
            for incident_id in shadowed - pending:
                base = cur.execute(f"SELECT {_COLS} FROM shadow WHERE id = ?", (incident_id,)).fetchone()
                cur.execute(_INSERT, base)
                cur.execute("DELETE FROM shadow WHERE id = ?", (incident_id,))
        return pending | shadowed

    def _pending_ids(self, cur: sqlite3.Cursor) -> set[int]:
        return {int(r[0]) for r in cur.execute("SELECT DISTINCT incident_id FROM outbox")}

    def _rebase_pending(self, cur: sqlite3.Cursor, records: Iterable[Record], rebase: Rebase) -> set[int]:
        done: set[int] = set()
        for record in records:
            # Acks and the live feed travel separately: never let an older record win.
            cur.execute(_SHADOW_UPSERT_NEWER, record)
            self._replay(cur, record[0], rebase)
            done.add(record[0])
        return done

    def _replay(self, cur: sqlite3.Cursor, incident_id: int, rebase: Rebase) -> None:
        """incidents[id] := shadow[id] with every pending command on it replayed."""
        row = cur.execute(f"SELECT {_COLS} FROM shadow WHERE id = ?", (incident_id,)).fetchone()
        if row is None:
            return
        incident = from_record(row)
        seq = int(row[FIELDS.index("seq")])
        for (text,) in cur.execute(
            "SELECT command FROM outbox WHERE incident_id = ? ORDER BY n", (incident_id,)
        ).fetchall():
            try:
                incident = rebase(incident, _command_decoder.decode(text))
            except Exception:
                continue  # the server will reject it; until then it has no effect here
        cur.execute(_INSERT, to_record(incident, seq))

    # -- the outbox ----------------------------------------------------------------------------
    def enqueue(self, command: Command, effect: Incident | None) -> int:
        """Put a command in the outbox with its optimistic effect, in one transaction.
        Returns the outbox size."""
        with self._tx(durable=True) as cur:
            row = cur.execute(f"SELECT {_COLS} FROM incidents WHERE id = ?", (command.incident_id,)).fetchone()
            if (
                row is not None
                and cur.execute("SELECT 1 FROM shadow WHERE id = ?", (command.incident_id,)).fetchone() is None
            ):
                cur.execute(_SHADOW_UPSERT, row)
            cur.execute(
                "INSERT INTO outbox (key, incident_id, command, created_at, attempts) VALUES (?, ?, ?, ?, 0)",
                (command.key, command.incident_id, _command_encoder.encode(command).decode(), time.time()),
            )
            if effect is not None and row is not None:
                cur.execute(_INSERT, to_record(effect, int(row[FIELDS.index("seq")])))
            return int(cur.execute("SELECT count(*) FROM outbox").fetchone()[0])

    def pending(self) -> list[PendingCommand]:
        with self._tx() as cur:
            rows = cur.execute("SELECT n, command, created_at, attempts FROM outbox ORDER BY n").fetchall()
        return [PendingCommand(int(n), _command_decoder.decode(c), float(t), int(a)) for n, c, t, a in rows]

    def outbox_size(self) -> int:
        with self._tx() as cur:
            return int(cur.execute("SELECT count(*) FROM outbox").fetchone()[0])

    def mark_sent(self, keys: Sequence[str]) -> None:
        with self._tx() as cur:
            cur.executemany("UPDATE outbox SET attempts = attempts + 1 WHERE key = ?", [(k,) for k in keys])

    def settle(
        self, key: str, record: Record | None, rebase: Rebase, rejection: tuple[str, str] | None = None
    ) -> int | None:
        """The server acknowledged (``rejection`` None) or rejected a command. Removes it from
        the outbox (into the conflict inbox when rejected), brings the incident to the server's
        state plus the remaining pending commands. Returns the incident id, or None for a key
        this cache does not hold (settled before)."""
        with self._tx(durable=True) as cur:
            row = cur.execute("SELECT n, incident_id, command, created_at FROM outbox WHERE key = ?", (key,)).fetchone()
            if row is None:
                # Settled before (a command sent twice): the record is still news, but it must
                # not wipe the effect of other commands pending on the incident.
                if record is not None:
                    if record[0] in self._pending_ids(cur):
                        self._rebase_pending(cur, [record], rebase)
                    else:
                        cur.execute(_UPSERT_NEWER, record)
                return None
            n, incident_id, command, created_at = row
            cur.execute("DELETE FROM outbox WHERE n = ?", (n,))
            if rejection is not None:
                cur.execute(
                    "INSERT INTO conflicts (key, incident_id, command, code, reason, created_at, rejected_at, resolved)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, 0)",
                    (key, incident_id, command, rejection[0], rejection[1], created_at, time.time()),
                )
            if record is not None and record[0] == incident_id:
                current = cur.execute("SELECT seq FROM shadow WHERE id = ?", (incident_id,)).fetchone()
                if current is None or record[FIELDS.index("seq")] >= current[0]:
                    cur.execute(_SHADOW_UPSERT, record)
            still_pending = cur.execute("SELECT 1 FROM outbox WHERE incident_id = ? LIMIT 1", (incident_id,)).fetchone()
            if still_pending:
                self._replay(cur, incident_id, rebase)
            else:
                base = cur.execute(f"SELECT {_COLS} FROM shadow WHERE id = ?", (incident_id,)).fetchone()
                if base is not None:
                    cur.execute(_INSERT, base)
                cur.execute("DELETE FROM shadow WHERE id = ?", (incident_id,))
            return int(incident_id)

    # -- the conflict inbox --------------------------------------------------------------------
    def conflicts(self, include_resolved: bool = False) -> list[Conflict]:
        where = "" if include_resolved else "WHERE resolved = 0"
        with self._tx() as cur:
            rows = cur.execute(
                f"SELECT n, command, code, reason, created_at, rejected_at FROM conflicts {where} ORDER BY n"
            ).fetchall()
        return [
            Conflict(int(n), _command_decoder.decode(c), code, reason, t0, t1) for n, c, code, reason, t0, t1 in rows
        ]

    def resolve_conflict(self, n: int) -> None:
        """The operator has seen and dealt with a rejected command."""
        with self._tx() as cur:
            cur.execute("UPDATE conflicts SET resolved = 1 WHERE n = ?", (n,))

    # -- devices -------------------------------------------------------------------------------
    def put_devices(self, changed: Sequence[Device], full: bool) -> None:
        """Store devices the server sent; ``full`` replaces the whole set."""
        rows = [(d.id, d.kind.value, d.street, d.state.value, _device_encoder.encode(d).decode()) for d in changed]
        with self._tx() as cur:
            if full:
                cur.execute("DELETE FROM devices")
            cur.executemany(
                "INSERT OR REPLACE INTO devices (id, kind, street, state, record) VALUES (?, ?, ?, ?, ?)", rows
            )

    def devices(self, ids: Iterable[str] | None = None) -> list[Device]:
        """The devices held (those among ``ids`` when given), by id."""
        with self._tx() as cur:
            if ids is None:
                rows = cur.execute("SELECT record FROM devices ORDER BY id").fetchall()
            else:
                wanted = list(ids)
                rows = []
                for start in range(0, len(wanted), 500):
                    part = wanted[start : start + 500]
                    marks = ", ".join("?" * len(part))
                    rows += cur.execute(f"SELECT record FROM devices WHERE id IN ({marks})", part).fetchall()
        return [_device_decoder.decode(r[0]) for r in rows]

    # -- reads ---------------------------------------------------------------------------------
    def incident(self, incident_id: int) -> Incident | None:
        with self._tx() as cur:
            row = cur.execute(f"SELECT {_COLS} FROM incidents WHERE id = ?", (incident_id,)).fetchone()
        return None if row is None else from_record(row)

    def record(self, incident_id: int) -> Record | None:
        with self._tx() as cur:
            row = cur.execute(f"SELECT {_COLS} FROM incidents WHERE id = ?", (incident_id,)).fetchone()
        return None if row is None else tuple(row)

    def count(self) -> int:
        with self._tx() as cur:
            return int(cur.execute("SELECT count(*) FROM incidents").fetchone()[0])

    def ids(self) -> set[int]:
        with self._tx() as cur:
            return {int(r[0]) for r in cur.execute("SELECT id FROM incidents")}


class _Tx:
    """A transaction on a pooled raw connection: commit on success, roll back on error."""

    def __init__(self, cache: ConsoleCache, durable: bool) -> None:
        self.cache = cache
        self.durable = durable

    def __enter__(self) -> sqlite3.Cursor:
        self.cache._lock.acquire()
        self.conn = self.cache._raw()
        cursor: sqlite3.Cursor = self.conn.cursor()
        self.cur = cursor
        if self.durable:
            self.cur.execute("PRAGMA main.synchronous=FULL")
        return self.cur

    def __exit__(self, exc_type: type[BaseException] | None, *_: object) -> None:
        try:
            if exc_type is None:
                self.conn.commit()
            else:
                self.conn.rollback()
        finally:
            if self.durable:
                self.cur.execute("PRAGMA main.synchronous=NORMAL")
            self.cur.close()
            self.conn.close()
            self.cache._lock.release()
