"""Run in a subprocess by tests/sound/test_sound_devices.py, with ``PULSE_SERVER`` pointing at a
private PulseAudio whose default sink is a null sink and whose default source hears that sink:
the console's loudspeaker (:class:`app.console.audio.AudioOut`) plays half a second of silence
and then a tone; its microphone (:class:`app.console.audio.AudioIn`) hears it. Prints JSON."""

from __future__ import annotations

import json
import math
import os
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtWidgets import QApplication

from app.console.audio import FRAME, RATE, AudioIn, AudioOut

#: When the talk spurts are (seconds from the start), with silence (nothing sent) between.
SPURTS = ((0.5, 1.0), (1.6, 2.1))
TONE_AT = SPURTS[0][0]
RUN_S = 2.6


def main() -> None:
    app = QApplication([])
    out, mic = AudioOut(), AudioIn()
    # A sound server's first stream takes a moment to start (here up to ~1.5 s); measure from
    # when the device plays (it is fed silence meanwhile).
    ready = QEventLoop()
    waited = time.monotonic()

    def started() -> None:
        if out._sink is None or out._sink.processedUSecs() > 0 or time.monotonic() - waited > 5:
            ready.quit()

    poll = QTimer()
    poll.timeout.connect(started)
    poll.start(10)
    ready.exec()
    poll.stop()
    while mic.capture(FRAME) is not None:
        pass
    start = time.monotonic()
    heard: list[tuple[float, float]] = []
    pushed = 0
    progress: list[tuple[float, int]] = []

    def tick() -> None:
        nonlocal pushed
        # The talk link's pace: a 20 ms frame every 20 ms, at most one frame ahead.
        # Talk spurts only, nothing between them: a talk link receives nothing while nobody
        # holds the floor.
        while pushed * FRAME / RATE < time.monotonic() - start + 0.02:
            at = pushed * FRAME / RATE
            if any(a <= at < b for a, b in SPURTS):
                t = (pushed * FRAME + np.arange(FRAME)) / RATE
                out.push("talk", (0.4 * np.sin(2 * math.pi * 1000.0 * t) * 32767).astype(np.int16))
            pushed += 1
        if out._sink is not None and (not progress or time.monotonic() - start - progress[-1][0] >= 0.25):
            progress.append((round(time.monotonic() - start, 2), out._sink.processedUSecs() // 1000))
        while (samples := mic.capture(FRAME)) is not None:
            level = float(np.sqrt(np.mean((samples.astype(np.float32) / 32768.0) ** 2)))
            heard.append((time.monotonic() - start, level))

    timer = QTimer()
    timer.timeout.connect(tick)
    timer.start(5)
    loop = QEventLoop()
    QTimer.singleShot(int(RUN_S * 1000), loop.quit)
    loop.exec()
    elapsed = time.monotonic() - start
    sink = out._sink
    loud = [t for t, level in heard if level > 0.05]
    print(
        json.dumps(
            {
                "out_available": out.available,
                "in_available": mic.available,
                "elapsed_s": elapsed,
                "startup_s": start - waited,
                "played_s": (sink.processedUSecs() / 1e6) - (progress[0][1] / 1000 if progress else 0.0)
                if sink is not None
                else 0.0,
                "captured_frames": len(heard),
                "tone_at_s": TONE_AT,
                "first_loud_s": loud[0] if loud else None,
                "second_spurt_at_s": SPURTS[1][0],
                "second_loud_s": next((t for t in loud if t >= SPURTS[1][0]), None),
                "progress": progress,
                "quiet_before_tone": all(level < 0.01 for t, level in heard if t < TONE_AT),
            }
        )
    )
    out.stop()
    mic.stop()
    del app


if __name__ == "__main__":
    main()
