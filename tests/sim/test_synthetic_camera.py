"""The synthetic camera: pictures of the right layout that move, and a stamp that reads back
exactly — or not at all — after real VP8 and H.264 encoding and scaling."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from fractions import Fraction

import av
import numpy as np
import pytest

from app.sim.camera import (
    GRID_COLS,
    GRID_ROWS,
    STAMP_BITS,
    STAMP_COL0,
    STAMP_COLS,
    STAMP_ROW0,
    Stamp,
    SyntheticCamera,
    make_stamp,
    read_stamp,
    read_stamp_bgra,
)

NAME = "长寿路街道 高空抛物摄像机 CAM-001"
T0 = 1_795_000_000.0  # 2026-11-18, Shanghai evening
FPS = 15


def luma(picture: np.ndarray, height: int) -> np.ndarray:
    return picture[:height]


def test_frames_have_the_yuv420p_layout_and_move() -> None:
    camera = SyntheticCamera("CAM-001", NAME)
    assert (camera.width, camera.height) == (640, 360)
    a = camera.frame(0, T0)
    b = camera.frame(15, T0 + 1.0)
    assert a.shape == (540, 640) and a.dtype == np.uint8
    assert a.flags.c_contiguous
    # The road (the middle band, clear of the text and the stamp) changes as the traffic moves.
    road = slice(round(0.58 * 360), round(0.80 * 360))
    assert np.count_nonzero(a[road] != b[road]) > 500
    # It is a frame av takes as it is.
    frame = av.VideoFrame.from_ndarray(a, format="yuv420p")
    assert (frame.width, frame.height) == (640, 360)


def test_the_background_is_stable_for_a_camera_and_differs_between_cameras() -> None:
    a = SyntheticCamera("CAM-001", NAME).frame(7, T0)
    b = SyntheticCamera("CAM-001", NAME).frame(7, T0)
    c = SyntheticCamera("CAM-002", NAME).frame(7, T0)
    assert np.array_equal(a, b)
    assert not np.array_equal(a[:200], c[:200])
    assert np.array_equal(
        SyntheticCamera("X", NAME, seed=5).frame(1, T0), SyntheticCamera("Y", NAME, seed=5).frame(1, T0)
    )


def test_other_sizes() -> None:
    for width, height in ((160, 90), (320, 180), (1280, 720)):
        camera = SyntheticCamera("CAM-009", NAME, width=width, height=height)
        picture = camera.frame(3, T0)
        assert picture.shape == (height * 3 // 2, width)
        if width >= 320:
            assert read_stamp(luma(picture, height)) == make_stamp(3, T0)
    with pytest.raises(ValueError):
        SyntheticCamera("CAM-009", NAME, width=641, height=360)
    with pytest.raises(ValueError):
        SyntheticCamera("CAM-009", NAME, width=120, height=90)


def test_the_stamp_reads_back_from_the_raw_frame() -> None:
    camera = SyntheticCamera("CAM-001", NAME)
    assert STAMP_BITS >= 64 + 8
    seen = []
    for number in (0, 1, 2, 1234, 2**24 - 1, 2**24 + 5):
        at = T0 + number / FPS + 0.0004
        stamp = read_stamp(luma(camera.frame(number, at), 360))
        assert stamp == make_stamp(number, at)
        assert stamp is not None
        seen.append(stamp.frame)
    assert seen == [0, 1, 2, 1234, 2**24 - 1, 5], "frame numbers advance and wrap at 2**24"
    assert make_stamp(0, T0 + 0.123).captured_ms == (round(T0 * 1000) + 123) % 2**40


def test_a_corrupted_stamp_reads_as_nothing() -> None:
    camera = SyntheticCamera("CAM-001", NAME)
    picture = camera.frame(4321, T0)
    y = luma(picture, 360).copy()
    flip(y, 4)
    assert read_stamp(y) is None
    # No stamp at all.
    assert read_stamp(np.full((360, 640), 128, np.uint8)) is None
    assert read_stamp(np.random.default_rng(1).integers(0, 256, (360, 640), dtype=np.uint8)) is None
    # Every single flipped block of the payload is caught.
    clean = luma(picture, 360)
    for i in range(2, 2 + STAMP_BITS):
        z = clean.copy()
        flip(z, i)
        assert read_stamp(z) is None, f"block {i} flipped"


def flip(y: np.ndarray, block: int) -> None:
    """Turn the stamp's ``block`` (row-major) black for white and white for black."""
    height, width = y.shape
    bw, bh = width / GRID_COLS, height / GRID_ROWS
    cx = int((STAMP_COL0 + block % STAMP_COLS + 0.5) * bw)
    cy = int((STAMP_ROW0 + block // STAMP_COLS + 0.5) * bh)
    r = int(min(bw, bh) / 2) - 1
    area = y[cy - r : cy + r + 1, cx - r : cx + r + 1]
    area[...] = 251 - area


def test_frame_timing() -> None:
    camera = SyntheticCamera("CAM-001", NAME)
    camera.frame(0, T0)
    n = 300
    start = time.perf_counter()
    for i in range(n):
        camera.frame(i, T0 + i / FPS)
    mean_ms = (time.perf_counter() - start) / n * 1000
    print(f"SyntheticCamera.frame at 640x360: {mean_ms:.3f} ms per frame (mean over {n})")


# --- through real codecs ---------------------------------------------------------------------


def vp8(bit_rate: int) -> av.VideoCodecContext:
    """The VP8 encoder as aiortc configures it."""
    codec = av.CodecContext.create("libvpx", "w")
    codec.width, codec.height = 640, 360
    codec.pix_fmt = "yuv420p"
    codec.bit_rate = bit_rate
    codec.framerate = Fraction(FPS)
    codec.time_base = Fraction(1, FPS)
    codec.gop_size = 3000
    codec.qmin, codec.qmax = 2, 56
    codec.options = {
        "bufsize": str(bit_rate),
        "cpu-used": "-6",
        "deadline": "realtime",
        "lag-in-frames": "0",
        "minrate": str(bit_rate),
        "maxrate": str(bit_rate),
        "noise-sensitivity": "4",
        "overshoot-pct": "15",
        "partitions": "0",
        "static-thresh": "1",
        "undershoot-pct": "100",
    }
    return codec


def h264(bit_rate: int) -> av.VideoCodecContext:
    codec = av.CodecContext.create("libx264", "w")
    codec.width, codec.height = 640, 360
    codec.pix_fmt = "yuv420p"
    codec.bit_rate = bit_rate
    codec.framerate = Fraction(FPS)
    codec.time_base = Fraction(1, FPS)
    codec.options = {"preset": "ultrafast", "tune": "zerolatency", "level": "31"}
    codec.profile = "Baseline"
    return codec


def round_trip(encoder: av.VideoCodecContext, decoder_name: str, frames: int) -> Iterator[tuple[Stamp, av.VideoFrame]]:
    """Each frame's stamp as written and the decoded picture."""
    camera = SyntheticCamera("CAM-001", NAME)
    decoder = av.CodecContext.create(decoder_name, "r")
    expected: dict[int, Stamp] = {}
    for i in range(frames):
        at = T0 + i / FPS + 0.0123 * (i % 7)
        frame = av.VideoFrame.from_ndarray(camera.frame(1000 + i, at), format="yuv420p")
        frame.pts = i
        expected[i] = make_stamp(1000 + i, at)
        for packet in encoder.encode(frame):
            for decoded in decoder.decode(packet):
                yield expected[decoded.pts], decoded
    for packet in encoder.encode(None):
        for decoded in decoder.decode(packet):
            yield expected[decoded.pts], decoded


Reader = Callable[[av.VideoFrame], Stamp | None]
READERS: dict[str, Reader] = {
    "640x360": lambda f: read_stamp(f.to_ndarray(format="gray")),
    "480x270": lambda f: read_stamp(f.reformat(width=480, height=270).to_ndarray(format="gray")),
    "320x180": lambda f: read_stamp(f.reformat(width=320, height=180).to_ndarray(format="gray")),
    "480x270 bgra": lambda f: read_stamp_bgra(f.reformat(width=480, height=270, format="bgra").to_ndarray()),
    "320x180 bgra": lambda f: read_stamp_bgra(f.reformat(width=320, height=180, format="bgra").to_ndarray()),
}


@pytest.mark.parametrize(
    ("codec", "decoder", "bit_rate"),
    [("vp8", "libvpx", 600_000), ("vp8", "libvpx", 300_000), ("h264", "h264", 1_000_000), ("h264", "h264", 400_000)],
)
def test_the_stamp_survives_encoding_and_scaling(codec: str, decoder: str, bit_rate: int) -> None:
    encoder = vp8(bit_rate) if codec == "vp8" else h264(bit_rate)
    frames = 30
    right = dict.fromkeys(READERS, 0)
    decoded_count = 0
    for expected, decoded in round_trip(encoder, decoder, frames):
        decoded_count += 1
        for size, read in READERS.items():
            stamp = read(decoded)
            assert stamp is None or stamp == expected, f"{codec} {size}: read {stamp}, wrote {expected}"
            right[size] += stamp == expected
    assert decoded_count == frames
    print(f"{codec} at {bit_rate} bit/s, read back of {frames}: {right}")
    for size, count in right.items():
        assert count >= 0.9 * frames, f"{codec} {size}: only {count} of {frames} read back"


def test_sample_pictures() -> None:
    """Two sample pictures for a person to look at (not checked here beyond being written)."""
    for i, (camera_id, name) in enumerate(
        (("CAM-001", NAME), ("CAM-014-003", "宜川路街道 苏州河沿岸摄像机 CAM-014-003")), start=1
    ):
        camera = SyntheticCamera(camera_id, name)
        picture = camera.frame(12345, T0 + 0.123)
        path = f"/tmp/synthetic_camera_{i}.png"
        av.VideoFrame.from_ndarray(picture, format="yuv420p").to_image().save(path)
