"""One console for the push-latency benchmark, in its own process as on a workstation: signs
in, syncs, prints ``ready``, then records for every new incident the time from its report's
send stamp to the change being committed in this cache; prints the latencies as JSON on
``stop`` (a line on standard input)."""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import sqlite3
import sys
import time
from pathlib import Path

from app.domain.permissions import Principal, Role
from app.services.events import Event, IncidentsChanged
from app.services.sync import SyncService
from app.storage.cache import ConsoleCache
from app.storage.catalog_file import read_catalog
from comms.client import login


async def run(server: str, user: str, password: str, cache_path: Path) -> None:
    session = await login(server, user, password)
    principal = Principal(session.user, Role(session.role), session.street, session.field)
    cache = ConsoleCache(cache_path)
    service = SyncService(server, session.token, principal, cache, read_catalog(), client_name=cache_path.stem)
    service.start()
    await service.wait_online()
    reader = sqlite3.connect(service.cache.replica, check_same_thread=False)
    latencies: list[float] = []

    def on_event(event: Event) -> None:
        if isinstance(event, IncidentsChanged) and event.ids:
            now = time.time()
            ids = ",".join(str(i) for i in event.ids)
            query = f"SELECT reported_at FROM incidents WHERE id IN ({ids}) AND version <= 2"
            latencies.extend((now - reported_at) * 1000.0 for (reported_at,) in reader.execute(query))

    service.store.subscribe(on_event)
    print("ready", flush=True)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.readline)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(f"client cpu {usage.ru_utime + usage.ru_stime:.2f} s", file=sys.stderr)
    await service.stop()
    reader.close()
    cache.close()
    print(json.dumps(latencies), flush=True)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--server", required=True)
    p.add_argument("--user", required=True)
    p.add_argument("--password", required=True)
    p.add_argument("--cache", type=Path, required=True)
    a = p.parse_args()
    asyncio.run(run(a.server, a.user, a.password, a.cache))


if __name__ == "__main__":
    main()
