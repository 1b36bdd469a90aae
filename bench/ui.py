"""``cityops bench ui``: the console's board and event loop under load, offscreen.

1. **A million incidents.** A console cache of 1,000,000 incidents (the mixed statuses of a
   working district, loaded as a snapshot is); the real board widget over it. Times, from the
   operator's action until the first page is on screen: opening the board, a street filter,
   sorting by last change. Baseline, same run: the bare ``SELECT id ... ORDER BY`` in
   ``sqlite3`` that the board cannot beat.
2. **Live changes.** A real server on 127.0.0.1, a load generator posting 2,000 reports/s, and
   the console's sync service, board and detail panel on a qasync loop; a 16 ms Qt timer
   measures how late the event loop runs (p99; a frame is 16 ms). Baseline, same run: the same
   timer with the loop idle.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from bench import free_port, print_table

ONE_MILLION = 1_000_000


def _p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))] if ordered else 0.0


async def _timer_lateness(seconds: float) -> list[float]:
    """Lateness (ms) of a 16 ms precise Qt timer over ``seconds``."""
    from PySide6.QtCore import Qt, QTimer

    late: list[float] = []
    timer = QTimer()
    timer.setTimerType(Qt.TimerType.PreciseTimer)
    last = time.perf_counter()

    def tick() -> None:
        nonlocal last
        now = time.perf_counter()
        late.append(max(0.0, (now - last) * 1000.0 - 16.0))
        last = now

    timer.timeout.connect(tick)
    timer.start(16)
    await asyncio.sleep(seconds)
    timer.stop()
    return late[1:]


async def _until(predicate: Any, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise RuntimeError("timed out")
        await asyncio.sleep(0.002)


async def board_million(work: Path, n: int) -> dict[str, Any]:
    from PySide6.QtWidgets import QApplication

    from app.domain.permissions import Principal, Role
    from app.services.board import BoardFilter, BoardService, BoardSort
    from app.services.sync import SyncService
    from app.storage.cache import ConsoleCache
    from app.storage.catalog_file import read_catalog
    from bench.board import _load, mixed
    from bench.sync import make_records
    from widgets.incidents.board import IncidentBoard

    now = time.time()
    records = mixed(make_records(n), now)
    path = work / "board.db"
    _load(path, records)
    del records
    catalog = read_catalog()
    cache = ConsoleCache(path)
    sync = SyncService("http://127.0.0.1:9", "none", Principal("bench", Role.DISTRICT_OFFICER), cache, catalog)
    service = BoardService(sync)
    board = IncidentBoard(catalog)
    board.resize(1600, 900)
    board.show()
    app = QApplication.instance()
    assert app is not None
    model = board.model
    loaded: list[int] = []
    model.loaded.connect(loaded.append)

    async def until_shown(action: Any) -> float:
        loaded.clear()
        t0 = time.perf_counter()
        action()
        await _until(lambda: bool(loaded))
        # The first page's records are on screen: every visible row has its record.
        await _until(lambda: model.rowCount() == 0 or model.record(0) is not None)
        app.processEvents()
        board.view.viewport().repaint()
        return (time.perf_counter() - t0) * 1000.0

    def query(board_filter: BoardFilter, sort: BoardSort) -> Any:
        return lambda: model.set_queries(lambda: service.ids(board_filter, sort), service.rows)

    results: dict[str, list[float]] = {"open": [], "filter": [], "sort": []}
    street = sorted(catalog.streets)[3]
    for _ in range(3):
        results["open"].append(await until_shown(query(BoardFilter(), BoardSort())))
        results["filter"].append(await until_shown(query(BoardFilter(streets=frozenset({street})), BoardSort())))
        results["sort"].append(await until_shown(query(BoardFilter(), BoardSort(column="updated_at", ascending=False))))
    rows_open = model.rowCount()
    # Baseline: the bare query, same cache, same order.
    with sqlite3.connect(cache.replica) as conn:
        t0 = time.perf_counter()
        sql = (
            "SELECT id FROM incidents WHERE status NOT IN ('closed', 'invalid', 'merged')"
            " ORDER BY updated_at DESC, id DESC"
        )
        ids = [r[0] for r in conn.execute(sql)]
        raw_ms = (time.perf_counter() - t0) * 1000.0
    board.close()
    await sync.stop()
    cache.close()
    return {
        "board_incidents": n,
        "board_rows_open": rows_open,
        "board_open_ms_1m": statistics.median(results["open"]),
        "board_filter_ms_1m": statistics.median(results["filter"]),
        "board_sort_ms_1m": statistics.median(results["sort"]),
        "raw_sqlite_sort_ms_1m": raw_ms,
        "raw_sqlite_rows": len(ids),
    }


async def live_changes(work: Path, rate: float, duration: float) -> dict[str, Any]:
    from app.console.app import ConsoleOptions
    from app.console.console import Console
    from app.domain.permissions import Principal, Role
    from app.server.passwords import hash_password
    from app.services.demo import wait_healthy
    from app.services.events import IncidentsChanged
    from app.storage.server_store import ServerStore
    from comms.credentials import MemoryKeyring

    idle = await _timer_lateness(3.0)
    data = work / "server"
    data.mkdir()
    store = ServerStore(f"sqlite:///{data / 'cityops.db'}")
    store.add_user(Principal("bench", Role.DISTRICT_OFFICER, display_name="bench"), hash_password("bench-pw"))
    store.close()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = open(data / "server.log", "ab")  # noqa: ASYNC230 (once, for the server's whole life)
    server = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "app.cli", "server", "--data-dir", str(data), "--port", str(port), stdout=log, stderr=log
    )
    try:
        await asyncio.to_thread(wait_healthy, url)
        options = ConsoleOptions(
            server=url, cache_dir=work / "console", user="bench", password="bench-pw", keyring=MemoryKeyring(),
            profile="district",
        )  # fmt: skip
        console = Console(options)
        assert await console.start()
        assert console.sync is not None
        await console.sync.wait_online()
        applied = 0

        def count(event: object) -> None:
            nonlocal applied
            if isinstance(event, IncidentsChanged) and not event.reset:
                applied += len(event.ids)

        console.sync.store.subscribe(count)
        key = (data / "intake.key").read_text().strip()
        loadgen = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bench.loadgen", "--server", url, "--key", key,
            "--rate", str(rate), "--duration", str(duration), "--batch", "40",
        )  # fmt: skip
        t0 = time.perf_counter()
        busy = await _timer_lateness(duration)
        await loadgen.wait()
        elapsed = time.perf_counter() - t0
        await console.stop()
    finally:
        server.terminate()
        await server.wait()
        log.close()
    return {
        "changes_target_per_s": rate,
        "changes_per_s": applied / elapsed,
        "timer_lateness_p99_ms": _p99(busy),
        "timer_lateness_max_ms": max(busy) if busy else 0.0,
        "idle_timer_lateness_p99_ms": _p99(idle),
    }


def run(n: int | None) -> dict[str, Any]:
    import qasync
    from PySide6.QtWidgets import QApplication

    from app.console.qt import choose_font, install_translations

    work = Path(tempfile.mkdtemp(prefix="cityops-bench-ui-"))
    app = QApplication.instance() or QApplication([])
    assert isinstance(app, QApplication)
    app.setQuitOnLastWindowClosed(False)
    choose_font(app)
    install_translations(app, "zh")
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    size = n or ONE_MILLION
    print(f"bench ui: board over {size:,} incidents; live changes at 2,000/s; work dir {work}", flush=True)
    with loop:
        board = loop.run_until_complete(board_million(work, size))
        live = loop.run_until_complete(live_changes(work, 2000.0, 10.0))
    results = {**board, **live}
    print_table(
        "bench ui",
        [
            ("incidents in the cache", board["board_incidents"], ""),
            ("open board (first page shown)", board["board_open_ms_1m"], "ms"),
            ("street filter", board["board_filter_ms_1m"], "ms"),
            ("sort by last change", board["board_sort_ms_1m"], "ms"),
            ("bare sqlite3 sort of the same rows", board["raw_sqlite_sort_ms_1m"], "ms (baseline)"),
            ("live changes applied", live["changes_per_s"], "per s (2,000 sent)"),
            ("16 ms timer lateness p99, loaded", live["timer_lateness_p99_ms"], "ms (target ≤ 16)"),
            ("16 ms timer lateness p99, idle", live["idle_timer_lateness_p99_ms"], "ms (baseline)"),
        ],
    )
    return results
