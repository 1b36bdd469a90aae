"""``cityops bench board``: the incident board's queries on a console cache of N incidents.

Two caches, each loaded the way a snapshot is (``begin_snapshot`` / ``insert_snapshot`` /
``end_snapshot``, which builds the indexes):

* **all open**: the records of :func:`bench.sync.make_records` as they are, every incident
  open: the worst case for the board (and for building its index);
* **mixed**: the same records with the statuses and times of a working district: a small
  share open (recent ones, 46 % of them overdue), the rest closed, found invalid or merged
  over two years.

On each: the time of :meth:`app.services.board.BoardQuery.ids` for the default board (open
incidents by deadline), a street, a text search, the last changes first and a few more; a
100-row page of records; the status bar's counts; and what building the board's index adds to
the end of a snapshot. Each figure is the median of five runs after one to warm up.
"""

from __future__ import annotations

import functools
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

import numpy as np

from app.domain.model import Severity, Status
from app.domain.records import IDX, Record
from app.services.board import ALL_STATUSES, BoardFilter, BoardQuery, BoardSort
from app.storage.cache import ConsoleCache, board_index_statements
from app.storage.catalog_file import read_catalog
from bench import print_table
from bench.sync import make_records

RUNS = 5
#: Share of open incidents in the mixed cache, and the mix of their states and of the others'.
OPEN_SHARE = 0.05
OPEN_MIX = {"reported": 0.10, "registered": 0.20, "dispatched": 0.25, "handling": 0.30, "handled": 0.10}
OPEN_MIX["suspended"] = 1.0 - sum(OPEN_MIX.values())
DONE_MIX = {"closed": 0.90, "invalid": 0.07, "merged": 0.03}


def mixed(records: list[Record], now: float, open_share: float = OPEN_SHARE, seed: int = 7) -> list[Record]:
    """``records`` with the statuses and times of a working district: the newest
    ``open_share`` open (reported in the last three days, in their current stage for a few
    hours, each with a deadline), the rest done over the two years before."""
    n = len(records)
    rng = np.random.default_rng(seed)
    n_open = int(n * open_share)
    n_done = n - n_open
    reported = now - 730 * 86400.0 * (1.0 - (np.arange(n) + 1) / n) - rng.uniform(0, 600, n)
    reported[n_done:] = now - 3 * 86400.0 * (n - np.arange(n_done, n)) / max(1, n_open)
    status = np.concatenate(
        (
            rng.choice(list(DONE_MIX), n_done, p=list(DONE_MIX.values())),
            rng.choice(list(OPEN_MIX), n_open, p=list(OPEN_MIX.values())),
        )
    )
    stage_start = np.maximum(reported, now - rng.exponential(3 * 3600.0, n))
    limit = rng.choice([600.0, 1800.0, 3600.0, 4 * 3600.0, 86400.0, 3 * 86400.0], n)
    done_updated = reported + limit * rng.uniform(0.0, 1.0, n)
    out: list[Record] = []
    for i, r in enumerate(records):
        is_open = i >= n_done
        fields = list(r)
        fields[IDX["status"]] = str(status[i])
        fields[IDX["reported_at"]] = float(reported[i])
        fields[IDX["updated_at"]] = float(min(now, stage_start[i] + 60.0) if is_open else done_updated[i])
        fields[IDX["deadline"]] = float(stage_start[i] + limit[i]) if is_open else None
        out.append(tuple(fields))  # type: ignore[arg-type]
    return out


def _median_ms(fn: Callable[[], object]) -> float:
    fn()
    times = []
    for _ in range(RUNS):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000.0


def _load(path: Path, records: list[Record]) -> dict[str, float]:
    """Load a cache as a snapshot does; the seconds of the load, of ``end_snapshot`` and of
    the board index alone (built again after dropping it)."""
    cache = ConsoleCache(path)
    t = time.perf_counter()
    cache.begin_snapshot()
    for start in range(0, len(records), 5000):
        cache.insert_snapshot(records[start : start + 5000])
    loaded = time.perf_counter() - t
    t = time.perf_counter()
    cache.end_snapshot(len(records), lambda incident, _command: incident)
    ended = time.perf_counter() - t
    cache.close()
    with closing(sqlite3.connect(cache.replica)) as conn:
        conn.execute("PRAGMA cache_size=-65536")  # as the snapshot builder has it
        conn.execute("DROP INDEX ix_board_open")
        conn.commit()
        t = time.perf_counter()
        for statement in board_index_statements():
            conn.execute(statement)
        conn.commit()
        board_index = time.perf_counter() - t
    return {"load_s": loaded, "end_snapshot_s": ended, "board_index_s": board_index}


def _measure(label: str, path: Path, records: list[Record], now: float) -> dict[str, Any]:
    print(f"  {label}: loading {len(records):,} incidents", flush=True)
    results: dict[str, Any] = dict(_load(path, records))
    cache = ConsoleCache(path)
    try:
        query = BoardQuery(cache, read_catalog())
        street = str(records[0][IDX["street"]])
        cases = {
            "default": (BoardFilter(), BoardSort()),
            "street": (BoardFilter(streets=frozenset({street})), BoardSort()),
            "text": (BoardFilter(text="模板 12"), BoardSort()),
            "updated_desc": (BoardFilter(), BoardSort(column="updated_at", ascending=False)),
            "overdue": (BoardFilter(overdue_only=True), BoardSort()),
            "red_orange": (BoardFilter(severities=frozenset({Severity.RED, Severity.ORANGE})), BoardSort()),
            "dispatched": (BoardFilter(statuses=frozenset({Status.DISPATCHED})), BoardSort()),
            "by_severity": (BoardFilter(), BoardSort(column="severity")),
            "by_source": (BoardFilter(), BoardSort(column="source")),
            "all_statuses": (BoardFilter(statuses=ALL_STATUSES), BoardSort()),
            "all_statuses_street": (BoardFilter(statuses=ALL_STATUSES, streets=frozenset({street})), BoardSort()),
        }
        for name, (board_filter, sort) in cases.items():
            rows = query.ids(board_filter, sort, now)
            results[f"ids_{name}_ms"] = _median_ms(functools.partial(query.ids, board_filter, sort, now))
            results[f"ids_{name}_rows"] = len(rows)
            results[f"ids_{name}_plan"] = query.explain(board_filter, sort, now)
        default = query.ids(BoardFilter(), BoardSort(), now)
        middle = len(default) // 2
        page = default[middle : middle + 100]
        results["rows_page_ms"] = _median_ms(lambda: query.rows(page))
        results["counts_ms"] = _median_ms(lambda: query.counts(now))
        results["counts"] = query.counts(now).__dict__
        results["positions_100_ms"] = _median_ms(lambda: default.positions(page))
    finally:
        cache.close()
    return results


def _table(title: str, r: dict[str, Any]) -> None:
    def ids(name: str, what: str) -> tuple[str, Any, str]:
        # The access path: the first step of the (first) statement.
        path = r[f"ids_{name}_plan"][0].split(" | ")[0].replace("incidents ", "")
        return (f"ids(): {what}", r[f"ids_{name}_ms"], f"ms, {r[f'ids_{name}_rows']:,} rows; {path}")

    print_table(
        title,
        [
            ("snapshot load", r["load_s"], "s"),
            ("end_snapshot", r["end_snapshot_s"], "s, all indexes and the swap"),
            ("  of which the board index", r["board_index_s"], "s"),
            ids("default", "open, by deadline"),
            ids("street", "one street"),
            ids("text", "text '模板 12'"),
            ids("updated_desc", "last change first"),
            ids("overdue", "overdue only"),
            ids("red_orange", "red and orange"),
            ids("dispatched", "dispatched only"),
            ids("by_severity", "by severity"),
            ids("by_source", "by source"),
            ids("all_statuses", "all statuses, by deadline"),
            ids("all_statuses_street", "all statuses, one street"),
            ("rows(): a 100-row page", r["rows_page_ms"], "ms"),
            ("counts()", r["counts_ms"], f"ms, {r['counts']}"),
            ("positions() of 100 ids", r["positions_100_ms"], "ms (first call sorts the ids)"),
        ],
    )


def run(n: int) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="cityops-bench-board-"))
    print(f"bench board: {n:,} incidents; work dir {work}", flush=True)
    now = time.time()
    records = make_records(n)
    results: dict[str, Any] = {"n": n}
    results["all_open"] = _measure("all open", work / "all-open.db", records, now)
    results["mixed"] = _measure("mixed", work / "mixed.db", mixed(records, now), now)
    _table(f"bench board: {n:,} incidents, all open (worst case)", results["all_open"])
    _table(f"bench board: {n:,} incidents, {OPEN_SHARE:.0%} open (a working district)", results["mixed"])
    return results
