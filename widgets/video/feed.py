"""The hand-over of images from the media thread to the video wall, and the drag-and-drop format
of a camera.

A :class:`TileFeed` holds at most one image: the newest not yet shown. The media thread
:meth:`~TileFeed.offer`\\ s every decoded frame; the wall :meth:`~TileFeed.take`\\ s on its
timer. When the wall is slower than the stream, the frame it did not show is replaced (latest
wins) and counted in :attr:`~TileFeed.dropped`, so a busy wall falls behind by at most one frame
and never queues. Nothing here is Qt: the media thread must not touch Qt objects, and the lock
is held only for an assignment.

:data:`CAMERA_MIME` is what the map, the camera list and the wall drag: UTF-8 JSON
``{"id": ..., "name": ...}`` (:func:`camera_payload`, :func:`parse_camera_payload`).
"""

from __future__ import annotations

import json
import threading
from typing import Final, NamedTuple

import numpy as np
import numpy.typing as npt

#: The MIME type of a dragged camera: UTF-8 JSON ``{"id": ..., "name": ...}``.
CAMERA_MIME: Final = "application/x-cityops-camera"

#: The size images are wanted in before the wall has laid out its tiles (16:9, even).
DEFAULT_TARGET: Final = (320, 180)

Image = npt.NDArray[np.uint8]
"""A BGRA image: ``uint8``, shape (height, width, 4), C-contiguous."""


class FrameInfo(NamedTuple):
    """What the stream knows of a frame: when the camera captured it (epoch seconds) and how
    long it took to reach this console (milliseconds); None when unknown."""

    captured_at: float | None
    delay_ms: float | None


def camera_payload(camera_id: str, name: str) -> bytes:
    """The :data:`CAMERA_MIME` bytes of a camera."""
    return json.dumps({"id": camera_id, "name": name}, ensure_ascii=False).encode("utf-8")


def parse_camera_payload(data: bytes) -> tuple[str, str] | None:
    """(id, name) from :data:`CAMERA_MIME` bytes, or None when they are not a camera."""
    try:
        value = json.loads(bytes(data).decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    if not isinstance(value, dict):
        return None
    camera_id, name = value.get("id"), value.get("name", "")
    if not isinstance(camera_id, str) or not camera_id or not isinstance(name, str):
        return None
    return camera_id, name or camera_id


def fit_16_9(width: float, height: float) -> tuple[int, int]:
    """The largest 16:9 size with even sides inside ``width`` × ``height`` (at least 2 × 2)."""
    if width * 9.0 > height * 16.0:
        w, h = height * 16.0 / 9.0, height
    else:
        w, h = width, width * 9.0 / 16.0
    return max(2, int(w) // 2 * 2), max(2, int(h) // 2 * 2)


class TileFeed:
    """The newest unshown image of one tile, and the size the tile wants images in.

    :meth:`offer` and :meth:`target_size` are for the media thread; :meth:`take` and
    :meth:`set_target_size` for the Qt thread. :attr:`offered`, :attr:`dropped` and
    :attr:`taken` count frames (read them anywhere; they are only ever incremented)."""

    def __init__(self, target: tuple[int, int] = DEFAULT_TARGET) -> None:
        self._lock = threading.Lock()
        self._target = target
        self._pending: tuple[Image, FrameInfo] | None = None
        self.offered = 0
        """Frames offered."""
        self.dropped = 0
        """Frames replaced by a newer one before the wall took them."""
        self.taken = 0
        """Frames the wall took (and showed, when the tile is in view)."""

    def target_size(self) -> tuple[int, int]:
        """(width, height) in device pixels, even, 16:9, fitting the tile. Thread-safe."""
        return self._target

    def set_target_size(self, width: int, height: int) -> None:
        # One tuple assignment: readers on other threads see the old size or the new, never half.
        self._target = (int(width), int(height))

    def offer(self, image: Image, info: FrameInfo) -> None:
        """Hand over a decoded BGRA image (any thread). The feed keeps a reference: the caller
        must not write into ``image`` afterwards."""
        with self._lock:
            if self._pending is not None:
                self.dropped += 1
            self._pending = (image, info)
            self.offered += 1

    def take(self) -> tuple[Image, FrameInfo] | None:
        """The newest image not yet taken, or None (Qt thread)."""
        with self._lock:
            pending, self._pending = self._pending, None
            if pending is not None:
                self.taken += 1
        return pending

    def clear(self) -> None:
        """Forget the image not yet taken (it is not counted as dropped)."""
        with self._lock:
            self._pending = None
