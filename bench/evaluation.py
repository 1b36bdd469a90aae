"""The evaluation (综合评价) over a server store of N incidents: :func:`bench_evaluation`.

The store is built the fast way: a thousand incidents live their lives through the real workflow
(closed on time, closed late, reworked, returned, suspended, still open at every stage, found
invalid), their records and evaluation facts are copied N times, shifted over the year before
now, and written with plain ``executemany`` into a real server store (SQLite). Then one
evaluation by unit over that year, :meth:`app.storage.server_store.ServerStore.evaluate`, as
``cityops evaluate --period … --by unit`` runs it; baseline, same run: a bare ``sqlite3``
``SELECT unit, count(*) … GROUP BY unit`` over the same rows of the same table. Each figure is
the median of five runs after one to warm up.
"""

from __future__ import annotations

import random
import shutil
import sqlite3
import statistics
import tempfile
import time
from contextlib import closing
from pathlib import Path
from typing import Any

import msgspec

from app.domain import intake, workflow
from app.domain.catalog import HandlingStandard
from app.domain.evaluation import GroupBy, StageFacts, facts_of
from app.domain.intake import Report
from app.domain.model import Action, Incident, SourceChannel
from app.domain.records import FIELDS, Record, to_record
from app.storage.catalog_file import read_catalog
from app.storage.server_store import STAGE_COLUMNS, ServerStore, stage_row
from bench import print_table

RUNS = 5
TEMPLATES = 1000
YEAR_S = 365 * 86400.0
#: How the templates' lives end: share of each path.
PATHS = {"closed": 0.70, "reworked": 0.08, "returned": 0.04, "open": 0.12, "suspended": 0.02, "invalid": 0.04}


class _Life:
    """One incident living through the workflow at a random pace."""

    def __init__(self, incident: Incident, t: float, standard: HandlingStandard, rng: random.Random) -> None:
        self.incident, self.t, self.standard, self.rng = incident, t, standard, rng

    def step(self, action: Action, limit_min: float, **extra: Any) -> None:
        # Most steps well within the limit, some beyond it.
        late = self.rng.random() >= 0.85
        self.t += 60.0 * limit_min * (self.rng.uniform(1.0, 3.0) if late else self.rng.uniform(0.05, 0.9))
        self.incident = workflow.apply(self.incident, action, actor="bench", at=self.t, standard=self.standard, **extra)


def _lives(now: float, seed: int = 3) -> list[Incident]:
    """Incidents of every category and street through the real workflow, starting two months
    before ``now``; some stages take longer than their limits."""
    rng = random.Random(seed)
    catalog = read_catalog()
    codes = sorted(catalog.categories)
    streets = sorted(catalog.streets)
    units = sorted(catalog.units)
    lives = []
    for j in range(TEMPLATES):
        street = catalog.streets[streets[j % len(streets)]]
        category = codes[j % len(codes)]
        std = catalog.standard_for(category)
        t = now - 60 * 86400.0 + rng.uniform(0, 86400.0)
        report = Report(
            report_id=f"e{j}",
            source=SourceChannel.PATROL,
            category=category,
            title=f"{catalog.categories[category].name.zh} {j}",
            lon=street.center[0],
            lat=street.center[1],
            street=street.code,
            observed_at=t,
        )
        life = _Life(intake.open_incident(report, j + 1, catalog, t), t, std, rng)
        path = rng.choices(list(PATHS), weights=list(PATHS.values()))[0]
        if life.incident.status.value == "reported":
            life.step(Action.REGISTER, std.register)
        if path == "invalid":
            life.step(Action.INVALIDATE, std.dispatch)
            lives.append(life.incident)
            continue
        if path == "returned":
            life.step(Action.DISPATCH, std.dispatch, unit=rng.choice(units))
            life.step(Action.RETURN, std.handle / 4)
        life.step(Action.DISPATCH, std.dispatch, unit=catalog.route(category, street.code))
        stop = rng.randint(0, 3) if path == "open" else 9
        if stop >= 1:
            life.step(Action.ACCEPT, std.handle / 10)
        if path == "suspended":
            life.step(Action.SUSPEND, std.handle / 10)
        elif stop >= 2:
            life.step(Action.FEEDBACK, std.handle)
            if path == "reworked":
                life.step(Action.REWORK, std.verify)
                life.step(Action.FEEDBACK, std.handle)
            if stop >= 3:
                life.step(Action.VERIFY, std.verify)
        lives.append(life.incident)
    return lives


def _shifted(
    record: Record, facts: StageFacts | None, i: int, shift: float
) -> tuple[tuple[Any, ...], tuple[Any, ...] | None]:
    """Incident ``i``: a copy of a template's record and evaluation row, ``shift`` seconds later."""
    r = list(record)
    r[0] = i
    for name in ("reported_at", "updated_at", "deadline"):
        k = FIELDS.index(name)
        if r[k] is not None:
            r[k] += shift
    r[FIELDS.index("seq")] = i
    if facts is None:
        return tuple(r), None

    def later(t: float | None) -> float | None:
        return None if t is None else t + shift

    moved = msgspec.structs.replace(
        facts,
        incident_id=i,
        registered_at=facts.registered_at + shift,
        closed_at=later(facts.closed_at),
        due_at=later(facts.due_at),
        handle_due=later(facts.handle_due),
        handled_at=later(facts.handled_at),
    )
    return tuple(r), stage_row(moved)


def build_store(path: Path, n: int, now: float) -> None:
    """A server store at ``path`` holding ``n`` incidents spread over the year before ``now``
    (the newest ones, still open, in the last week), with their evaluation rows."""
    ServerStore(f"sqlite:///{path}").close()
    lives = _lives(now)
    templates = [(to_record(life, 0), facts_of(life)) for life in lives]
    rng = random.Random(5)
    with closing(sqlite3.connect(path)) as db:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=OFF")
        incident_sql = f"INSERT INTO incidents ({', '.join(FIELDS)}) VALUES ({', '.join('?' for _ in FIELDS)})"
        stage_sql = (
            f"INSERT INTO incident_stages ({', '.join(STAGE_COLUMNS)}) VALUES ({', '.join('?' for _ in STAGE_COLUMNS)})"
        )
        chunk = 100_000
        for start in range(0, n, chunk):
            records, stages = [], []
            for i in range(start + 1, min(n, start + chunk) + 1):
                record, facts = templates[i % TEMPLATES]
                updated = record[FIELDS.index("updated_at")]
                if facts is not None and facts.closed_at is None:
                    # Open cases are recent: their last step in the last three days.
                    shift = now - updated - rng.uniform(0, 3 * 86400.0)
                else:
                    # The others in order over the year, done before now.
                    shift = now - YEAR_S * (1 - i / n) - record[FIELDS.index("reported_at")]
                    shift = min(shift, now - updated - rng.uniform(0, 3600.0))
                row, stage = _shifted(record, facts, i, shift)
                records.append(row)
                if stage is not None:
                    stages.append(stage)
            db.executemany(incident_sql, records)
            db.executemany(stage_sql, stages)
            db.commit()
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def _median_ms(run: Any) -> tuple[float, Any]:
    run()  # warm up
    times, result = [], None
    for _ in range(RUNS):
        t = time.perf_counter()
        result = run()
        times.append(1000.0 * (time.perf_counter() - t))
    return statistics.median(times), result


def bench_evaluation(n: int = 1_000_000) -> dict[str, Any]:
    """Build an ``n``-incident store and time one evaluation by unit over the last year.
    Prints a table and returns the figures (``evaluation_ms``, ``evaluation_baseline_ms``...)."""
    now = time.time()
    work = Path(tempfile.mkdtemp(prefix="cityops-bench-evaluation-"))
    path = work / "cityops.db"
    print(f"bench evaluation: {n:,} incidents; work dir {work} (removed at the end)", flush=True)
    try:
        t = time.perf_counter()
        build_store(path, n, now)
        build_s = time.perf_counter() - t
        print(f"  built the store in {build_s:.1f} s", flush=True)
        start, end = now - YEAR_S, now + 1.0
        store = ServerStore(f"sqlite:///{path}")
        try:
            evaluation_ms, rows = _median_ms(lambda: store.evaluate(start, end, GroupBy.UNIT, as_of=now))
        finally:
            store.close()
        with closing(sqlite3.connect(path)) as db:
            query = "SELECT unit, count(*) FROM incident_stages WHERE registered_at >= ? AND registered_at < ?"
            baseline_ms, counted = _median_ms(lambda: db.execute(query + " GROUP BY unit", (start, end)).fetchall())
            cases = int(db.execute("SELECT count(*) FROM incident_stages").fetchone()[0])
    finally:
        shutil.rmtree(work, ignore_errors=True)
    registered = sum(r.registered for r in rows)
    if registered != sum(c for _unit, c in counted):
        raise RuntimeError("the evaluation and the baseline counted different cases")
    results: dict[str, Any] = {
        "evaluation_n": n,
        "evaluation_cases": registered,
        "evaluation_rows": len(rows),
        "evaluation_ms": evaluation_ms,
        "evaluation_baseline_ms": baseline_ms,
        "evaluation_vs_baseline": evaluation_ms / baseline_ms,
        "evaluation_build_s": build_s,
    }
    print_table(
        "bench evaluation",
        [
            ("incidents in the store", n, f"{cases:,} of them cases (registered, not invalid)"),
            ("cases in the year", registered, f"{len(rows)} units"),
            ("evaluation by unit, one year", evaluation_ms, "ms, median of 5 (target: 1M in ≤ 2,000)"),
            ("bare SELECT unit, count(*) GROUP BY", baseline_ms, "ms, same rows (baseline)"),
            ("ratio to baseline", round(evaluation_ms / baseline_ms, 2), ""),
        ],
    )
    return results


if __name__ == "__main__":
    import sys

    print(bench_evaluation(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000))
