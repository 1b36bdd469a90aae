"""``cityops bench dashboard``: the vital-signs dashboard with 50 live series at 10 Hz, offscreen.

The real :class:`widgets.vitals.dashboard.VitalsDashboard` at 1920 × 1080 with 50 indicators
(the shipped catalogue's, repeated under new codes): 50 tiles with sparklines, and all 50
series on the live chart, each 600 points long. Every 100 ms a new value of each arrives
(``update_values``: the tiles and the 50 curves get their new data, and Qt repaints). A
16 ms precise Qt timer measures how late the event loop runs, over ``seconds`` (p50, p99; a
frame is 16 ms). Baseline, same run: the same timer with the dashboard shown and no updates.

``evaluation_ms_1m`` comes from ``bench.evaluation.bench_evaluation(1_000_000)`` when that
module exists (the evaluation's own benchmark); otherwise it is null with a note.
"""

from __future__ import annotations

import importlib
import importlib.util
import math
import os
import statistics
import time
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from bench import print_table

SERIES = 50
UPDATE_HZ = 10.0
POINTS = 600
WIDTH, HEIGHT = 1920, 1080
TIMER_MS = 16
TARGETS = {"timer_lateness_p99_ms": 16.0}


def _pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _catalogue(n: int) -> Any:
    """``n`` indicators: the shipped ones again and again, under new codes."""
    import msgspec

    from app.domain.indicators import IndicatorCatalogue, IndicatorsData
    from app.services.vitals import read_indicators
    from app.storage.catalog_file import read_catalog

    shipped = list(read_indicators(catalog=read_catalog()).values())
    made = [
        msgspec.structs.replace(shipped[k % len(shipped)], code=f"{shipped[k % len(shipped)].code}_{k}")
        for k in range(n)
    ]
    return IndicatorCatalogue(IndicatorsData(version=1, indicators=made))


def _lateness(seconds: float, during: Any = None) -> list[float]:
    """Lateness (ms) of a 16 ms precise Qt timer over ``seconds`` of the Qt event loop, with
    ``during`` (a QTimer) running alongside when given."""
    from PySide6.QtCore import QEventLoop, Qt, QTimer

    late: list[float] = []
    last = time.perf_counter()

    def tick() -> None:
        nonlocal last
        now = time.perf_counter()
        late.append(max(0.0, (now - last) * 1000.0 - TIMER_MS))
        last = now

    timer = QTimer()
    timer.setTimerType(Qt.TimerType.PreciseTimer)
    timer.timeout.connect(tick)
    loop = QEventLoop()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    timer.start(TIMER_MS)
    if during is not None:
        during.start()
    last = time.perf_counter()
    loop.exec()
    timer.stop()
    if during is not None:
        during.stop()
    return late[1:]


def _evaluation() -> tuple[float | None, str]:
    """The evaluation's figure for a million incidents, if its benchmark exists."""
    if importlib.util.find_spec("bench.evaluation") is None:
        return None, "bench/evaluation.py does not exist yet"
    module = importlib.import_module("bench.evaluation")
    bench_evaluation = getattr(module, "bench_evaluation", None)
    if bench_evaluation is None:
        return None, "bench.evaluation has no bench_evaluation(n)"
    try:
        figures = bench_evaluation(1_000_000)
    except Exception as exc:  # its failure must not lose this benchmark's figures
        return None, f"bench_evaluation failed: {exc!r}"
    if not isinstance(figures, dict):
        return None, "bench_evaluation gave no figures"
    # Its figure for the n it was given (a million here), under either name.
    value = figures.get("evaluation_ms_1m", figures.get("evaluation_ms"))
    if value is None:
        return None, "bench_evaluation gave no evaluation_ms"
    return float(value), "from bench.evaluation.bench_evaluation(1_000_000)"


def run(series: int | None = None, seconds: float = 20.0) -> dict[str, Any]:
    """The benchmark with ``series`` live series (``--n``; 50 by default) for ``seconds``."""
    from PySide6.QtCore import QEvent, QObject, Qt, QTimer
    from PySide6.QtWidgets import QApplication

    from app.console.qt import choose_font, install_translations
    from app.storage.catalog_file import read_catalog
    from widgets.vitals.dashboard import VitalsDashboard

    duration = seconds
    n_series = series or SERIES
    app = QApplication.instance() or QApplication([])
    assert isinstance(app, QApplication)
    choose_font(app)
    install_translations(app, "zh")
    print(
        f"bench dashboard: {n_series} live series × {POINTS} points at {UPDATE_HZ:g} Hz, {duration:g} s;"
        f" {WIDTH} × {HEIGHT} offscreen",
        flush=True,
    )
    indicators = _catalogue(n_series)
    codes = list(indicators)
    dashboard = VitalsDashboard(read_catalog(), history_points=POINTS)
    dashboard.set_catalogue(indicators)
    dashboard.resize(WIDTH, HEIGHT)
    dashboard.show()
    # Full series from the start: a minute of history each, ending now.
    now = time.time()
    times = [now - (POINTS - k) / UPDATE_HZ for k in range(POINTS)]
    bases = {code: 10.0 + 5.0 * k for k, code in enumerate(codes)}
    for k, code in enumerate(codes):
        dashboard.set_history(code, times, [bases[code] * (1.0 + 0.1 * math.sin(j / 30.0 + k)) for j in range(POINTS)])
    dashboard.set_series(codes)

    class PaintCounter(QObject):
        def __init__(self) -> None:
            super().__init__()
            self.frames = 0

        def eventFilter(self, watched: QObject, event: QEvent) -> bool:
            if event.type() == QEvent.Type.Paint:
                self.frames += 1
            return False

    painted = PaintCounter()
    dashboard.live_plot.viewport().installEventFilter(painted)
    for _ in range(20):
        app.processEvents()

    baseline = _lateness(min(10.0, duration / 2))

    update_ms: list[float] = []
    tick = 0

    def update() -> None:
        nonlocal tick
        tick += 1
        t0 = time.perf_counter()
        values = {code: bases[code] * (1.0 + 0.1 * math.sin(tick / 30.0 + k)) for k, code in enumerate(codes)}
        dashboard.update_values(values, time.time())
        update_ms.append((time.perf_counter() - t0) * 1000.0)

    updater = QTimer()
    updater.setTimerType(Qt.TimerType.PreciseTimer)
    updater.setInterval(int(1000 / UPDATE_HZ))
    updater.timeout.connect(update)
    painted.frames = 0
    t0 = time.perf_counter()
    loaded = _lateness(duration, updater)
    elapsed = time.perf_counter() - t0
    frames = painted.frames
    dashboard.close()

    evaluation_ms, evaluation_note = _evaluation()
    results: dict[str, Any] = {
        "series": n_series,
        "points_per_series": POINTS,
        "update_hz": len(update_ms) / elapsed,
        "update_hz_target": UPDATE_HZ,
        "seconds": elapsed,
        "timer_lateness_p50_ms": _pct(loaded, 0.50),
        "timer_lateness_p99_ms": _pct(loaded, 0.99),
        "timer_lateness_max_ms": max(loaded) if loaded else 0.0,
        "baseline_timer_lateness_p50_ms": _pct(baseline, 0.50),
        "baseline_timer_lateness_p99_ms": _pct(baseline, 0.99),
        "update_call_ms_p50": statistics.median(update_ms) if update_ms else 0.0,
        "update_call_ms_p99": _pct(update_ms, 0.99),
        "live_chart_frames_per_s": frames / elapsed,
        "evaluation_ms_1m": evaluation_ms,
        "evaluation_note": evaluation_note,
        "targets": dict(TARGETS),
    }
    target = TARGETS["timer_lateness_p99_ms"]
    print_table(
        "bench dashboard",
        [
            ("live series", n_series, f"× {POINTS} points"),
            ("updates", results["update_hz"], f"per s (target {UPDATE_HZ:g})"),
            ("update call p50", results["update_call_ms_p50"], "ms"),
            ("update call p99", results["update_call_ms_p99"], "ms"),
            ("live chart frames", results["live_chart_frames_per_s"], "per s"),
            ("16 ms timer lateness p50", results["timer_lateness_p50_ms"], "ms"),
            ("16 ms timer lateness p99", results["timer_lateness_p99_ms"], f"ms (target ≤ {target:g})"),
            ("16 ms timer lateness p99, no updates", results["baseline_timer_lateness_p99_ms"], "ms (baseline)"),
            ("evaluation of 1M incidents", "—" if evaluation_ms is None else evaluation_ms, evaluation_note),
        ],
    )
    return results
