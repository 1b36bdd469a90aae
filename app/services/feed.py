"""``cityops feed``: sign in, sync a cache like a console does, and print each change as it
arrives. The text-mode view of the live system until (and beside) the Qt console."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import tempfile
import time
from pathlib import Path

from app.domain.permissions import Principal, Role
from app.services.events import ConnectionChanged, Event, IncidentsChanged
from app.services.sync import SyncService
from app.storage.cache import ConsoleCache
from app.storage.catalog_file import read_catalog
from comms.client import AuthError, ServerUnreachable, login

_SEVERITY = {1: "红 red   ", 2: "橙 orange", 3: "黄 yellow", 4: "蓝 blue  "}


async def _feed(server: str, user: str, password: str, cache_path: Path, duration: float) -> int:
    catalog = read_catalog()
    try:
        session = await login(server, user, password)
    except (AuthError, ServerUnreachable) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    principal = Principal(session.user, Role(session.role), session.street, session.field, session.display_name)
    cache = ConsoleCache(cache_path)
    service = SyncService(server, session.token, principal, cache, catalog, client_name="feed")
    print(f"signed in as {session.user} ({session.role}); cache {cache_path}", flush=True)

    def show(event: Event) -> None:
        if isinstance(event, ConnectionChanged):
            detail = f" — {event.detail}" if event.detail else ""
            print(f"[sync] {event.state.value}{detail}", flush=True)
        elif isinstance(event, IncidentsChanged) and not event.reset:
            for incident_id in sorted(event.ids):
                record = cache.record(incident_id)
                if record is None:
                    continue
                (
                    iid,
                    version,
                    category,
                    title,
                    street,
                    _grid,
                    _lon,
                    _lat,
                    severity,
                    source,
                    status,
                    unit,
                    _rep,
                    updated,
                    _deadline,
                    merged,
                    _sup,
                    seq,
                    _detail,
                ) = record
                cat = catalog.categories.get(category)
                street_name = catalog.streets[street].name.zh if street in catalog.streets else street
                unit_name = catalog.units[unit].name.zh if unit in catalog.units else (unit or "-")
                stamp = time.strftime("%H:%M:%S", time.localtime(updated))
                print(
                    f"{stamp} #{seq:<7} {iid:>7} v{version:<3} {_SEVERITY.get(severity, '?')} {status:<10} "
                    f"{street_name:<8} {cat.name.zh if cat else category:<12} ×{merged:<2} {source:<13} "
                    f"→ {unit_name}  {title}",
                    flush=True,
                )
        elif isinstance(event, IncidentsChanged) and event.reset:
            print(f"[sync] snapshot: {cache.count()} incidents in cache", flush=True)

    service.store.subscribe(show)
    service.start()
    try:
        if duration > 0:
            await asyncio.sleep(duration)
        else:
            await asyncio.Event().wait()
    finally:
        await service.stop()
        cache.close()
    return 0


def main(args: argparse.Namespace) -> int:
    password = args.password
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    if not password:
        import getpass

        password = getpass.getpass(f"password for {args.user}: ")
    cache_path = args.cache or Path(tempfile.mkdtemp(prefix="cityops-feed-")) / "cache.db"
    with contextlib.suppress(KeyboardInterrupt):
        return asyncio.run(_feed(args.server, args.user, password, cache_path, args.duration))
    return 0
