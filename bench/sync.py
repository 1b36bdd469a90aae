"""``cityops bench sync``: the console's initial sync and live push latency, end to end over a
real server on 127.0.0.1.

1. Initial sync: N incidents in a server's SQLite store, a fresh console cache, a real sync
   session; rows per second from hello until the snapshot is in the cache. Baseline, same run:
   raw ``sqlite3`` ``executemany`` of the same records into the same cache schema.
2. Push latency: a load generator posts 1,000 reports/s to the intake API; five console sync
   clients; latency from the report's send time to its change being committed in each cache.
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from app.domain import intake
from app.domain.intake import Report
from app.domain.model import SourceChannel
from app.domain.permissions import Principal, Role
from app.domain.records import FIELDS, Record, to_record
from app.server.passwords import hash_password
from app.services.demo import wait_healthy
from app.services.sync import SyncService
from app.storage.cache import ConsoleCache, create_replica
from app.storage.catalog_file import read_catalog
from app.storage.server_store import ServerStore
from bench import free_port, print_table
from comms.client import login

PASSWORD = "bench-password"


def make_records(n: int) -> list[Record]:
    """N realistic records: incidents opened by intake from a thousand varied reports, then
    spread over the district."""
    catalog = read_catalog()
    codes = sorted(catalog.categories)
    streets = sorted(catalog.streets)
    templates = []
    t0 = time.time() - 86400
    for j in range(1000):
        street = catalog.streets[streets[j % len(streets)]]
        report = Report(
            report_id=f"t{j}",
            source=list(SourceChannel)[j % 5],
            category=codes[j % len(codes)],
            title=f"{catalog.categories[codes[j % len(codes)]].name.zh} 模板 {j}",
            description="市民反映：现场情况需要处置，请尽快派员核实。",
            lon=street.center[0] + (j % 7) * 0.001,
            lat=street.center[1] + (j % 5) * 0.001,
            street=street.code,
            address=f"{street.name.zh}某路{j}号",
            observed_at=t0 + j,
        )
        templates.append(to_record(intake.open_incident(report, j + 1, catalog, t0 + j + 5), 0))
    records: list[Record] = []
    for i in range(n):
        t = templates[i % 1000]
        records.append(
            (
                i + 1,
                t[1],
                t[2],
                t[3],
                t[4],
                t[5],
                t[6] + (i % 97) * 1e-5,
                t[7] + (i % 89) * 1e-5,
                t[8],
                t[9],
                t[10],
                t[11],
                t[12] + i * 0.01,
                t[13],
                t[14],
                t[15],
                t[16],
                i + 1,
                t[18],
            )
        )
    return records


def _server(data_dir: Path, port: int) -> subprocess.Popen[bytes]:
    log = open(data_dir / "server.log", "ab")
    return subprocess.Popen(
        [sys.executable, "-m", "app.cli", "server", "--data-dir", str(data_dir), "--port", str(port)],
        stdout=log,
        stderr=log,
    )


def _prepare_server(data_dir: Path, records: list[Record]) -> None:
    store = ServerStore(f"sqlite:///{data_dir / 'cityops.db'}")
    store.add_user(Principal("bench", Role.DISTRICT_OFFICER, display_name="bench"), hash_password(PASSWORD))
    store.close()
    if not records:
        return
    db = sqlite3.connect(data_dir / "cityops.db")
    marks = ", ".join("?" for _ in FIELDS)
    db.executemany(f"INSERT INTO incidents ({', '.join(FIELDS)}) VALUES ({marks})", records)
    db.execute(
        "INSERT INTO changes (seq, at, incident_id, street, category, unit, actor, action, record)"
        " VALUES (?, ?, 0, '', '', NULL, 'bench', 'bulk_load', 'null')",
        (len(records), time.time()),
    )
    db.commit()
    db.close()


def raw_sqlite_rate(records: list[Record], path: Path) -> float:
    """Rows/s of plain ``executemany`` into the console cache's schema and settings."""
    create_replica(path)  # the console's incidents table with its indexes
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    marks = ", ".join("?" for _ in FIELDS)
    t0 = time.perf_counter()
    db.executemany(f"INSERT INTO incidents ({', '.join(FIELDS)}) VALUES ({marks})", records)
    db.commit()
    elapsed = time.perf_counter() - t0
    db.close()
    return len(records) / elapsed


async def initial_sync(url: str, cache_path: Path, n: int) -> float:
    session = await login(url, "bench", PASSWORD)
    principal = Principal(session.user, Role(session.role))
    cache = ConsoleCache(cache_path)
    service = SyncService(url, session.token, principal, cache, read_catalog(), client_name="bench")
    t0 = time.perf_counter()
    service.start()
    await service.wait_for_seq(n)
    elapsed = time.perf_counter() - t0
    count = await service.db(cache.count)
    await service.stop()
    cache.close()
    if count != n:
        raise RuntimeError(f"cache holds {count} incidents after the sync, expected {n}")
    return elapsed


async def push_latency(url: str, key: str, work: Path, clients: int, rate: float, duration: float) -> dict[str, Any]:
    """Each console in its own process, as on the workstations."""
    procs = []
    for k in range(clients):
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bench.sync_client", "--server", url, "--user", "bench",
            "--password", PASSWORD, "--cache", str(work / f"client{k}.db"),
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        )  # fmt: skip
        procs.append(proc)
    for proc in procs:
        assert proc.stdout is not None
        line = await asyncio.wait_for(proc.stdout.readline(), 60)
        if line.strip() != b"ready":
            raise RuntimeError(f"a bench client failed to start: {line!r}")
    await asyncio.sleep(0.5)
    loadgen = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.loadgen", "--server", url, "--key", key,
        "--rate", str(rate), "--duration", str(duration),
    )  # fmt: skip
    t0 = time.perf_counter()
    await loadgen.wait()
    elapsed = time.perf_counter() - t0
    await asyncio.sleep(2.0)
    latencies: list[list[float]] = []
    for proc in procs:
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(b"stop\n")
        await proc.stdin.drain()
        latencies.append(json.loads(await asyncio.wait_for(proc.stdout.read(), 60)))
        await proc.wait()
    all_lat = sorted(x for lat in latencies for x in lat)
    per_client = [len(lat) for lat in latencies]
    if not all_lat:
        raise RuntimeError("no change reached the clients")

    def pct(p: float) -> float:
        return all_lat[min(len(all_lat) - 1, int(p / 100 * len(all_lat)))]

    return {
        "push_clients": clients,
        "push_rate_target": rate,
        "push_changes_per_s": min(per_client) / elapsed,
        "push_latency_p50_ms": statistics.median(all_lat),
        "push_latency_p99_ms": pct(99),
        "push_latency_max_ms": all_lat[-1],
        "push_received_per_client": per_client,
    }


def run(n: int) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="cityops-bench-sync-"))
    print(f"bench sync: {n:,} incidents; work dir {work}", flush=True)
    t = time.perf_counter()
    records = make_records(n)
    print(f"  made {n:,} records in {time.perf_counter() - t:.1f} s", flush=True)

    raw = raw_sqlite_rate(records, work / "raw.db")
    print(f"  raw sqlite3 executemany: {raw:,.0f} rows/s", flush=True)

    data = work / "server-initial"
    data.mkdir()
    _prepare_server(data, records)
    del records
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = _server(data, port)
    try:
        wait_healthy(url)
        elapsed = asyncio.run(initial_sync(url, work / "cache-initial.db", n))
    finally:
        server.terminate()
        server.wait(10)
    sync_rate = n / elapsed
    print(f"  initial sync: {elapsed:.1f} s, {sync_rate:,.0f} rows/s", flush=True)

    data = work / "server-push"
    data.mkdir()
    _prepare_server(data, [])
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = _server(data, port)
    try:
        wait_healthy(url)
        key = (data / "intake.key").read_text().strip()
        push = asyncio.run(push_latency(url, key, work, clients=5, rate=1000.0, duration=10.0))
    finally:
        server.terminate()
        server.wait(10)

    results: dict[str, Any] = {
        "n": n,
        "initial_sync_s": elapsed,
        "initial_sync_rows_per_s": sync_rate,
        "raw_sqlite_rows_per_s": raw,
        "initial_sync_vs_raw": sync_rate / raw,
        **push,
        "cpu_count": os.cpu_count(),
    }
    print_table(
        "bench sync",
        [
            ("incidents", n, ""),
            ("initial sync", elapsed, "s (target: 1M in ≤ 20 s)"),
            ("initial sync rate", sync_rate, "rows/s, server → console cache over WebSocket"),
            ("raw sqlite3 executemany", raw, "rows/s, same records, same schema (baseline)"),
            ("ratio to raw", round(sync_rate / raw, 3), "(target ≥ 0.4)"),
            ("push clients", push["push_clients"], ""),
            ("push changes/s per client", push["push_changes_per_s"], "(target 1,000)"),
            ("push latency p50", push["push_latency_p50_ms"], "ms intake → cache"),
            ("push latency p99", push["push_latency_p99_ms"], "ms (target ≤ 50)"),
        ],
    )
    return results
