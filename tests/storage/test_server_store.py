"""The server store's schema version: a store of the previous version is migrated at start, one
of an unknown version is refused with a message that says what to do."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from app.storage.server_store import SCHEMA_VERSION, ServerStore, StoreVersionError


def _version(path: Path) -> str:
    with closing(sqlite3.connect(path)) as db:
        return str(db.execute("SELECT value FROM server_meta WHERE key = 'schema_version'").fetchone()[0])


def _tables(path: Path) -> set[str]:
    with closing(sqlite3.connect(path)) as db:
        return {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def test_a_version_1_store_gains_the_devices_table(tmp_path: Path) -> None:
    path = tmp_path / "cityops.db"
    ServerStore(f"sqlite:///{path}").close()
    with closing(sqlite3.connect(path)) as db:  # as the first release left it
        db.execute("DROP TABLE devices")
        db.execute("UPDATE server_meta SET value = '1' WHERE key = 'schema_version'")
        db.commit()
    store = ServerStore(f"sqlite:///{path}")
    assert store.devices() == []
    store.close()
    assert _version(path) == SCHEMA_VERSION
    assert "devices" in _tables(path)


def test_an_unknown_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "cityops.db"
    ServerStore(f"sqlite:///{path}").close()
    with closing(sqlite3.connect(path)) as db:
        db.execute("UPDATE server_meta SET value = '99' WHERE key = 'schema_version'")
        db.commit()
    with pytest.raises(StoreVersionError, match="schema version 99"):
        ServerStore(f"sqlite:///{path}")
    assert _version(path) == "99", "a refused store is left as it was"
