"""Integration fixtures: a real server subprocess on 127.0.0.1 (SQLite or PostgreSQL), real
users, and test consoles that are real sync services with real cache files."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from sqlalchemy.engine import make_url

from app.domain.permissions import Principal, Role
from app.server.config import ServerConfig
from app.server.passwords import hash_password
from app.services.events import Event
from app.services.sync import SyncService
from app.storage.cache import ConsoleCache
from app.storage.catalog_file import read_catalog
from app.storage.server_store import ServerStore
from comms.client import login
from support.server import ServerProcess, running_server, timeout_scale

PASSWORD = "test-password"
CHANGSHOU = "310107015"
CAOYANG = "310107005"
GANQUAN = "310107016"
STREET_POINTS = {
    CHANGSHOU: (121.438, 31.242),
    CAOYANG: (121.405, 31.245),
    GANQUAN: (121.435, 31.262),
}

USERS = [
    Principal("officer", Role.DISTRICT_OFFICER, display_name="值班员甲"),
    Principal("officer2", Role.DISTRICT_OFFICER, display_name="值班员乙"),
    Principal("changshou", Role.STREET_OPERATOR, street=CHANGSHOU, display_name="长寿路街道"),
    Principal("caoyang", Role.STREET_OPERATOR, street=CAOYANG, display_name="曹杨新村街道"),
    Principal("fire", Role.PROFESSIONAL_CENTER, field="fire", display_name="消防指挥中心"),
    Principal("admin", Role.ADMIN, display_name="管理员"),
]


def scaled(seconds: float) -> float:
    return seconds * timeout_scale()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest) -> str | None:
    """None for the embedded SQLite default; otherwise a fresh database on the session's
    throwaway PostgreSQL cluster."""
    if request.param == "sqlite":
        return None
    base: str = request.getfixturevalue("postgres_url")
    name = f"t_{uuid.uuid4().hex[:12]}"
    url = make_url(base)
    with psycopg.connect(host=url.host, port=url.port, user=url.username, dbname=url.database, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return url.set(database=name).render_as_string(hide_password=False)


@pytest.fixture
def server(tmp_path: Path, db_url: str | None) -> Iterator[ServerProcess]:
    data_dir = tmp_path / "server"
    data_dir.mkdir()
    store = ServerStore(ServerConfig(data_dir=data_dir, db_url=db_url).store_url)
    hashed = hash_password(PASSWORD)
    for user in USERS:
        store.add_user(user, hashed)
    store.close()
    with running_server(data_dir, db_url) as process:
        yield process


class SyncedConsole:
    """A console without widgets: login, a cache file, the sync service, a log of events."""

    def __init__(self, service: SyncService, cache: ConsoleCache) -> None:
        self.service = service
        self.cache = cache
        self.events: list[Event] = []
        service.store.subscribe(self.events.append)

    async def ids(self) -> set[int]:
        return await self.service.db(self.cache.ids)

    async def record(self, incident_id: int) -> Any:
        return await self.service.db(self.cache.record, incident_id)

    async def last_seq(self) -> int:
        return await self.service.db(lambda: self.cache.last_seq)

    async def stop(self) -> None:
        await self.service.stop()
        self.cache.close()


@pytest.fixture
async def consoles(tmp_path: Path) -> AsyncIterator[Callable[..., Any]]:
    """Factory: ``await consoles(server, "officer")`` → a started SyncedConsole."""
    started: list[SyncedConsole] = []
    catalog = read_catalog()

    async def make(server: ServerProcess, user: str, cache_name: str | None = None) -> SyncedConsole:
        session = await login(server.url, user, PASSWORD)
        principal = Principal(session.user, Role(session.role), session.street, session.field, session.display_name)
        cache = ConsoleCache(tmp_path / f"{cache_name or user}.db")
        service = SyncService(server.url, session.token, principal, cache, catalog, client_name=user)
        console = SyncedConsole(service, cache)
        service.start()
        started.append(console)
        return console

    yield make
    for console in started:
        await console.stop()


def report(
    n: int,
    street: str = CHANGSHOU,
    category: str = "appearance.garbage_overflow",
    source: str = "citizen",
    **extra: Any,
) -> dict[str, Any]:
    """A report body; each ``n`` lands at its own place (~200 m apart) so none merge."""
    lon, lat = STREET_POINTS[street]
    body = {
        "report_id": f"test-{uuid.uuid4().hex}",
        "source": source,
        "category": category,
        "title": f"测试上报 {n}",
        "description": "集成测试",
        "lon": lon + 0.002 * (n % 10),
        "lat": lat + 0.002 * (n // 10 % 10),
        "street": street,
        "observed_at": time.time(),
    }
    body.update(extra)
    return body


async def post_report(server: ServerProcess, body: dict[str, Any]) -> dict[str, Any]:
    async with httpx.AsyncClient(timeout=scaled(10)) as http:
        response = await http.post(f"{server.url}/api/reports", json=body, headers={"X-API-Key": server.key})
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result
