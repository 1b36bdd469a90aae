"""Load generator for the sync benchmark: posts reports to the intake API at a steady rate,
in batches as a sensor gateway does, each stamped with its send time (``observed_at``), at
distinct places so that none merge."""

from __future__ import annotations

import argparse
import asyncio
import time

import httpx


def body(i: int, t: float) -> dict[str, object]:
    # A 100 × 100 lattice of places 0.001° apart (~100 m), so no two reports merge.
    return {
        "report_id": f"bench-{i}",
        "source": "sensor",
        "category": "fire.smoke_alarm",
        "title": f"烟感报警 BENCH-{i}",
        "lon": 121.36 + 0.001 * (i % 100),
        "lat": 31.21 + 0.001 * ((i // 100) % 100),
        "observed_at": t,
        "reporter": f"SMK-BENCH-{i % 500}",
    }


response_ms: list[float] = []


async def timed(http: httpx.AsyncClient, bodies: list[dict[str, object]], stamp: float) -> httpx.Response:
    response = await http.post("/api/reports/batch", json=bodies)
    response_ms.append((time.time() - stamp) * 1000.0)
    return response


async def run(server: str, key: str, rate: float, duration: float, batch: int) -> int:
    interval = batch / rate
    sent = 0
    errors = 0
    start = time.monotonic()
    async with httpx.AsyncClient(base_url=server, headers={"X-API-Key": key}, timeout=30) as http:
        pending: set[asyncio.Task[httpx.Response]] = set()
        tick = 0
        while time.monotonic() - start < duration:
            now = time.time()
            bodies = [body(sent + k, now) for k in range(batch)]
            sent += batch
            task = asyncio.create_task(timed(http, bodies, now))
            pending.add(task)
            task.add_done_callback(pending.discard)
            tick += 1
            delay = start + tick * interval - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
        results = await asyncio.gather(*pending, return_exceptions=True)
        errors = sum(1 for r in results if isinstance(r, BaseException) or r.status_code != 201)
    response_ms.sort()
    p50 = response_ms[len(response_ms) // 2] if response_ms else 0.0
    p99 = response_ms[int(0.99 * (len(response_ms) - 1))] if response_ms else 0.0
    print(
        f"loadgen: sent {sent} reports in {time.monotonic() - start:.1f} s, {errors} failed batches; "
        f"intake response p50 {p50:.1f} ms, p99 {p99:.1f} ms; cpu {time.process_time():.2f} s",
        flush=True,
    )
    return 0 if errors == 0 else 1


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--server", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--rate", type=float, default=1000.0)
    p.add_argument("--duration", type=float, default=10.0)
    p.add_argument("--batch", type=int, default=20)
    a = p.parse_args()
    raise SystemExit(asyncio.run(run(a.server, a.key, a.rate, a.duration, a.batch)))


if __name__ == "__main__":
    main()
