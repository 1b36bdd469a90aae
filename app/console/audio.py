"""The console's loudspeaker and microphone for calls (Qt Multimedia).

:class:`AudioOut` plays what the calls receive: every source (a conference participant, the
talk groups) hands in 20 ms frames from the media thread; a timer on the Qt thread mixes one
frame of each source at a time into the output device. The device is kept full — 60 ms ahead,
silence when nobody speaks — so speech is heard as it comes and the device never runs dry (a
device that does waits for a whole buffer before it plays again). :class:`AudioIn` captures the default microphone
into a small ring that the media thread reads 20 ms at a time.

A workstation without a sound device (a server room PC, this CI machine) reports
``available = False``: calls work, the console shows "no microphone" / plays nothing."""

from __future__ import annotations

import collections
import logging
import threading
from typing import Final

import numpy as np
import numpy.typing as npt
from PySide6.QtCore import QIODevice, QObject, QTimer
from PySide6.QtMultimedia import QAudioFormat, QAudioSink, QAudioSource, QMediaDevices

log = logging.getLogger(__name__)

RATE: Final = 48_000
FRAME: Final = 960
#: Frames a source may have waiting before the oldest is dropped (120 ms).
MAX_WAITING: Final = 6
#: The output device's buffer (ms): what is written ahead of playout, sound or silence.
OUT_BUFFER_MS: Final = 60

Samples = npt.NDArray[np.int16]
_SILENCE: Final = np.zeros(FRAME, dtype=np.int16)


def _format() -> QAudioFormat:
    fmt = QAudioFormat()
    fmt.setSampleRate(RATE)
    fmt.setChannelCount(1)
    fmt.setSampleFormat(QAudioFormat.SampleFormat.Int16)
    return fmt


class AudioOut(QObject):
    """Mixes and plays the received sources."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._queues: dict[str, collections.deque[Samples]] = {}
        self._lock = threading.Lock()
        self._sink: QAudioSink | None = None
        self._io: QIODevice | None = None
        device = QMediaDevices.defaultAudioOutput()
        fmt = _format()
        self.available = not device.isNull() and device.isFormatSupported(fmt)
        if self.available:
            self._sink = QAudioSink(device, fmt, self)
            self._sink.setBufferSize(RATE * 2 * OUT_BUFFER_MS // 1000)
            self._io = self._sink.start()
        self._timer = QTimer(self)
        self._timer.setInterval(10)
        self._timer.timeout.connect(self._pump)
        if self.available:
            self._timer.start()

    def push(self, source: str, samples: Samples) -> None:
        """A 20 ms frame of ``source`` (any thread)."""
        if not self.available:
            return
        with self._lock:
            queue = self._queues.get(source)
            if queue is None:
                queue = self._queues[source] = collections.deque(maxlen=MAX_WAITING)
            queue.append(samples)

    def forget(self, source: str) -> None:
        with self._lock:
            self._queues.pop(source, None)

    def _pump(self) -> None:
        sink, io = self._sink, self._io
        if sink is None or io is None:
            return
        while sink.bytesFree() >= FRAME * 2:
            with self._lock:
                frames = [q.popleft() for q in self._queues.values() if q]
            if not frames:
                # Nothing to play: the device is kept full with silence. A device that runs
                # dry stops, and waits for a whole buffer before it plays again (PulseAudio's
                # prebuffering): speech would start late and stutter.
                frames = [_SILENCE]
            mixed = np.clip(np.sum([f.astype(np.int32) for f in frames], axis=0), -32768, 32767).astype(np.int16)
            io.write(mixed.tobytes())

    def stop(self) -> None:
        self._timer.stop()
        if self._sink is not None:
            self._sink.stop()


class AudioIn(QObject):
    """The default microphone, read by the media thread 20 ms at a time (:meth:`capture`)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._buffer = bytearray()
        self._lock = threading.Lock()
        self._source: QAudioSource | None = None
        self._io: QIODevice | None = None
        device = QMediaDevices.defaultAudioInput()
        fmt = _format()
        self.available = not device.isNull() and device.isFormatSupported(fmt)
        if self.available:
            self._source = QAudioSource(device, fmt, self)
            self._source.setBufferSize(FRAME * 2 * 2)
            self._io = self._source.start()
            if self._io is not None:
                self._io.readyRead.connect(self._read)

    def _read(self) -> None:
        if self._io is None:
            return
        data = bytes(self._io.readAll().data())
        with self._lock:
            self._buffer += data
            excess = len(self._buffer) - FRAME * 2 * MAX_WAITING
            if excess > 0:  # the link is not reading (not connected yet): keep it short
                del self._buffer[:excess]

    def capture(self, samples: int) -> Samples | None:
        """``samples`` captured samples, or None when not that many are in (any thread)."""
        need = samples * 2
        with self._lock:
            if len(self._buffer) < need:
                return None
            chunk = bytes(self._buffer[:need])
            del self._buffer[:need]
        return np.frombuffer(chunk, dtype=np.int16).copy()

    def stop(self) -> None:
        if self._source is not None:
            self._source.stop()
