"""Benchmarks: ``cityops bench NAME --json FILE``. Each prints a table, compares against a
baseline measured in the same run, and writes its figures as JSON."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

BENCHES = ("sync", "ui", "board", "map", "dashboard", "video", "calls")


def print_table(title: str, rows: list[tuple[str, Any, str]]) -> None:
    """Print ``(name, value, note)`` rows as an aligned table."""
    print(f"\n{title}\n" + "-" * len(title))
    width = max(len(r[0]) for r in rows)
    for name, value, note in rows:
        shown = f"{value:,.1f}" if isinstance(value, float) else f"{value:,}" if isinstance(value, int) else str(value)
        print(f"  {name:<{width}}  {shown:>14}  {note}")


def percentile(values: list[float], p: float) -> float:
    """The ``p``-th percentile (nearest rank) of ``values``; NaN when there are none."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def free_port() -> int:
    """A free TCP port on 127.0.0.1 for a server the benchmark starts."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_json(path: Path | None, results: dict[str, Any]) -> None:
    if path is None:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    print(f"\nresults written to {path}")


def run_bench(name: str, json_path: Path | None, n: int | None) -> int:
    if name == "sync":
        from bench.sync import run

        results = run(n or 200_000)
    elif name == "ui":
        from bench.ui import run as run_ui

        results = run_ui(n)
    elif name == "board":
        from bench.board import run as run_board

        results = run_board(n or 1_000_000)
    elif name == "map":
        from bench.map import run as run_map

        results = run_map(n)
    elif name == "dashboard":
        from bench.dashboard import run as run_dashboard

        results = run_dashboard(n)
    elif name == "video":
        from bench.video import run as run_video

        results = run_video(n)
    elif name == "calls":
        from bench.calls import run as run_calls

        results = run_calls(n)
    else:
        print(f"unknown benchmark {name!r}; available: {', '.join(BENCHES)}", file=sys.stderr)
        return 2
    write_json(json_path, results)
    return 0
