"""The synthetic camera: a simulated video source for the server's video hub.

Each simulated camera shows a street — sky, buildings, a two-lane road with cars, buses and
e-bikes, pedestrians on the far pavement, an aircraft crossing the sky — seeded from the
camera's id, by day or by night. Burnt into every picture are the camera's name, a clock in
Shanghai time, the frame number and a machine-readable stamp (frame number and capture time in
milliseconds) that :func:`read_stamp` reads back from a decoded picture at any scale, so tests
and benchmarks can tell which frame a viewer shows and how long it took to get there.

The stamp is a grid of black and white blocks in the bottom-left corner, sized relative to the
picture (a block is 1/64 of the width by 1/36 of the height: 10 by 10 pixels at 640x360), with
two reference blocks at each end and a CRC-16 over the payload, so a misread gives ``None``
rather than a wrong value.

Speed matters more than beauty: the hub renders many cameras at 15 frames a second in one
process next to the encoders. Everything static (the scene, the name, the fixed characters of
the clock) is rendered once; a frame is one copy of that background, a few sprite copies for
the moving objects, one tile copy per clock digit and one table look-up for the stamp.
"""

from __future__ import annotations

import binascii
import functools
import hashlib
import math
import subprocess
from dataclasses import dataclass
from datetime import datetime
from random import Random
from typing import Final, NamedTuple

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageDraw, ImageFont

from app.domain.localtime import SHANGHAI

U8 = npt.NDArray[np.uint8]
F32 = npt.NDArray[np.float32]
Font = ImageFont.FreeTypeFont | ImageFont.ImageFont
RGB = tuple[int, int, int]

#: The stamp's payload and checksum: 24 bits of frame number, 40 bits of capture time in
#: milliseconds and a 16-bit CRC.
FRAME_BITS: Final = 24
TIME_BITS: Final = 40
CRC_BITS: Final = 16
STAMP_BITS: Final[int] = FRAME_BITS + TIME_BITS + CRC_BITS

#: The stamp grid: the picture is divided into GRID_COLS x GRID_ROWS blocks; the stamp takes
#: STAMP_COLS x STAMP_ROWS of them, one block in from the left edge, on the bottom edge. Its blocks, in
#: row-major order, are white, black, the 80 data bits (most significant first), black, white.
GRID_COLS: Final = 64
GRID_ROWS: Final = 36
STAMP_COLS: Final = 21
STAMP_ROWS: Final = 4
STAMP_COL0: Final = 1
STAMP_ROW0: Final = GRID_ROWS - STAMP_ROWS
_BLOCKS: Final = STAMP_COLS * STAMP_ROWS
_REFS_HEAD: Final = (1, 0)
_REFS_TAIL: Final = (0, 1)
assert len(_REFS_HEAD) + STAMP_BITS + len(_REFS_TAIL) == _BLOCKS

#: Luma of black and white (video range), and the least contrast a readable stamp shows.
BLACK: Final = 16
WHITE: Final = 235
_MIN_CONTRAST: Final = 60.0
#: A block closer than this share of the contrast to the threshold is ambiguous: no reading.
_AMBIGUOUS: Final = 0.12

MIN_WIDTH: Final = 160
MIN_HEIGHT: Final = 90
_FONT_PATH: Final = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
_FONT_FAMILY: Final = "Noto Sans CJK SC"
_DIGITS: Final = "0123456789"
_CLOCK_GLYPHS: Final = _DIGITS + "-:. #"
#: The clock line; each 0 is a digit that changes, everything else is drawn once.
_CLOCK_TEMPLATE: Final = "0000-00-00 00:00:00.000  #00000000"


class Stamp(NamedTuple):
    """What a picture's stamp says: the frame number and when it was captured."""

    frame: int
    """Frame number, modulo 2**24."""
    captured_ms: int
    """Capture time, unix milliseconds modulo 2**40."""


def make_stamp(number: int, at: float) -> Stamp:
    """The stamp :meth:`SyntheticCamera.frame` burns into frame ``number`` captured at ``at``."""
    return Stamp(number % (1 << FRAME_BITS), math.floor(at * 1000.0) % (1 << TIME_BITS))


def _stamp_levels(stamp: Stamp) -> U8:
    """Every block's luma, in row-major order, plus the border's luma at the end."""
    payload = ((stamp.frame << TIME_BITS) | stamp.captured_ms).to_bytes(8, "big")
    crc = binascii.crc_hqx(payload, 0xFFFF)
    bits = np.unpackbits(np.frombuffer(payload + crc.to_bytes(2, "big"), dtype=np.uint8))
    levels = np.empty(_BLOCKS + 1, dtype=np.uint8)
    levels[: len(_REFS_HEAD)] = [WHITE if b else BLACK for b in _REFS_HEAD]
    levels[len(_REFS_HEAD) : len(_REFS_HEAD) + STAMP_BITS] = np.where(bits, WHITE, BLACK)
    levels[_BLOCKS - len(_REFS_TAIL) : _BLOCKS] = [WHITE if b else BLACK for b in _REFS_TAIL]
    levels[_BLOCKS] = BLACK
    return levels


@functools.lru_cache(maxsize=32)
def _sample_grid(height: int, width: int) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]] | None:
    """Row and column indices of the pixels sampled around each block's centre, shaped so that
    ``picture[rows, cols]`` is (STAMP_ROWS, k, STAMP_COLS, k)."""
    bw, bh = width / GRID_COLS, height / GRID_ROWS
    if bw < 2.0 or bh < 2.0:
        return None
    r = max(0, int(min(bw, bh) * 0.2))
    offsets = np.arange(-r, r + 1)
    cx = np.floor((STAMP_COL0 + np.arange(STAMP_COLS) + 0.5) * bw).astype(np.intp)
    cy = np.floor((STAMP_ROW0 + np.arange(STAMP_ROWS) + 0.5) * bh).astype(np.intp)
    cols = np.clip(cx[:, None] + offsets[None, :], 0, width - 1)
    rows = np.clip(cy[:, None] + offsets[None, :], 0, height - 1)
    return rows[:, :, None, None], cols[None, None, :, :]


def _decode(blocks: npt.NDArray[np.float64]) -> Stamp | None:
    values = blocks.reshape(-1)
    white = (values[0] + values[-1]) / 2.0
    black = (values[1] + values[-2]) / 2.0
    contrast = white - black
    if contrast < _MIN_CONTRAST:
        return None
    threshold = (white + black) / 2.0
    data = values[len(_REFS_HEAD) : len(_REFS_HEAD) + STAMP_BITS]
    if np.any(np.abs(data - threshold) < _AMBIGUOUS * contrast):
        return None
    raw = np.packbits(data > threshold).tobytes()
    payload, crc = raw[:8], int.from_bytes(raw[8:], "big")
    if binascii.crc_hqx(payload, 0xFFFF) != crc:
        return None
    value = int.from_bytes(payload, "big")
    return Stamp(value >> TIME_BITS, value & ((1 << TIME_BITS) - 1))


def read_stamp(luma: npt.NDArray[np.uint8]) -> Stamp | None:
    """The stamp read from a picture's luma (uint8, shape (h, w)) at any size the picture was
    scaled to, after lossy compression; ``None`` when there is no valid stamp."""
    if luma.ndim != 2:
        raise ValueError(f"luma must be two-dimensional, not of shape {luma.shape}")
    grid = _sample_grid(*luma.shape)
    if grid is None:
        return None
    samples = luma[grid].astype(np.float64)
    return _decode(samples.mean(axis=(1, 3)))


#: BT.601 luma weights for B, G, R; the reference blocks make the scale irrelevant.
_BGR_LUMA: Final = np.array([0.114, 0.587, 0.299])


def read_stamp_bgra(image: npt.NDArray[np.uint8]) -> Stamp | None:
    """The stamp read from a BGRA picture (uint8, shape (h, w, 4)), as the console shows it."""
    if image.ndim != 3 or image.shape[2] < 3:
        raise ValueError(f"image must be (h, w, 4), not of shape {image.shape}")
    grid = _sample_grid(image.shape[0], image.shape[1])
    if grid is None:
        return None
    samples = image[grid][..., :3].astype(np.float64) @ _BGR_LUMA
    return _decode(samples.mean(axis=(1, 3)))


# --- fonts and glyphs ------------------------------------------------------------------------


@functools.cache
def _font_file() -> tuple[str, int] | None:
    """The CJK font's file and face index, or ``None`` when there is none."""
    candidates: list[tuple[str, int]] = []
    try:
        found = subprocess.run(
            ["fc-match", "-f", "%{file}\n%{index}", _FONT_FAMILY],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.split("\n")
        if found and found[0]:
            index = int(found[1]) if len(found) > 1 and found[1].isdigit() else 0
            candidates.append((found[0], index))
    except (OSError, subprocess.SubprocessError, ValueError):
        pass
    candidates.append((_FONT_PATH, 0))
    for path, _ in candidates:
        for i in range(10):
            try:
                face = ImageFont.truetype(path, 12, index=i)
            except OSError:
                break
            if face.getname()[0] == _FONT_FAMILY:
                return path, i
    # No Noto Sans CJK SC: take what fontconfig found best, if it loads.
    for path, index in candidates:
        try:
            ImageFont.truetype(path, 12, index=index)
        except OSError:
            continue
        return path, index
    return None


@functools.cache
def _font(size: int) -> Font:
    found = _font_file()
    if found is not None:
        try:
            return ImageFont.truetype(found[0], size, index=found[1])
        except OSError:
            pass
    return ImageFont.load_default(size)


def _line_height(font: Font) -> int:
    if isinstance(font, ImageFont.FreeTypeFont):
        ascent, descent = font.getmetrics()
        return int(ascent + descent)
    box = font.getbbox("0Ag")
    return int(box[3]) + 2


def _text_width(font: Font, text: str) -> int:
    return math.ceil(font.getlength(text))


def _text_mask(font: Font, text: str, width: int | None = None) -> F32:
    """``text`` as coverage in 0..1, one line high, ``width`` wide (centred) or as wide as it is."""
    natural = _text_width(font, text)
    width = natural if width is None else width
    image = Image.new("L", (max(1, width), _line_height(font)), 0)
    draw = ImageDraw.Draw(image)
    try:
        draw.text(((width - natural) / 2, 0), text, font=font, fill=255)
    except UnicodeEncodeError:
        # The bitmap fallback font only has Latin-1.
        draw.text((0, 0), text.encode("latin-1", "replace").decode("latin-1"), font=font, fill=255)
    return np.asarray(image, dtype=np.float32) / 255.0


@functools.cache
def _glyphs(size: int) -> tuple[int, dict[str, F32]]:
    """The clock's glyphs at ``size``: the digits' cell width and each glyph's coverage (digits
    centred in one cell width so the clock does not jitter)."""
    font = _font(size)
    cell = max(_text_width(font, d) for d in _DIGITS)
    glyphs = {ch: _text_mask(font, ch, cell if ch in _DIGITS else None) for ch in _CLOCK_GLYPHS}
    return cell, glyphs


# --- colour -----------------------------------------------------------------------------------


def _rgb_to_yuv(rgb: F32) -> tuple[F32, F32, F32]:
    """BT.601 video-range Y, U, V at full resolution from RGB in 0..255."""
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    y = 16.0 + (65.481 * r + 128.553 * g + 24.966 * b) / 255.0
    u = 128.0 + (-37.797 * r - 74.203 * g + 112.0 * b) / 255.0
    v = 128.0 + (112.0 * r - 93.786 * g - 18.214 * b) / 255.0
    return y.astype(np.float32), u.astype(np.float32), v.astype(np.float32)


def _half(plane: F32) -> F32:
    h, w = plane.shape
    half: F32 = plane.reshape(h // 2, 2, w // 2, 2).mean(axis=(1, 3), dtype=np.float32)
    return half


def _u8(plane: F32) -> U8:
    return np.clip(np.rint(plane), 0, 255).astype(np.uint8)


@dataclass(frozen=True, slots=True)
class _Sprite:
    """A moving object in yuv420p: planes and masks, even width and height."""

    y: U8
    u: U8
    v: U8
    mask: npt.NDArray[np.bool_]
    cmask: npt.NDArray[np.bool_]

    @property
    def width(self) -> int:
        return int(self.y.shape[1])

    @classmethod
    def of(cls, image: Image.Image) -> _Sprite:
        rgba = np.asarray(image.convert("RGBA"), dtype=np.float32)
        h, w = rgba.shape[:2]
        rgba = rgba[: h - h % 2, : w - w % 2]
        y, u, v = _rgb_to_yuv(rgba[..., :3])
        alpha = rgba[..., 3] / 255.0
        return cls(_u8(y), _u8(_half(u)), _u8(_half(v)), alpha > 0.5, _half(alpha) > 0.5)

    def flipped(self) -> _Sprite:
        return _Sprite(
            np.ascontiguousarray(self.y[:, ::-1]),
            np.ascontiguousarray(self.u[:, ::-1]),
            np.ascontiguousarray(self.v[:, ::-1]),
            np.ascontiguousarray(self.mask[:, ::-1]),
            np.ascontiguousarray(self.cmask[:, ::-1]),
        )


@dataclass(frozen=True, slots=True)
class _Mover:
    """A sprite that crosses the picture again and again: at time t its left edge is at
    ``(phase + speed * t) % cycle - lead`` (mirrored when it moves left)."""

    frames: tuple[_Sprite, ...]
    top: int
    speed: float
    phase: float
    cycle: float
    lead: float
    leftwards: bool
    step_s: float = 0.0  # seconds per animation frame; 0 means not animated
    blink_s: float = 0.0  # seconds per blink half-period; 0 means always shown


# --- the scene --------------------------------------------------------------------------------

_DAY: Final = {
    "sky_top": (118, 160, 204),
    "sky_bottom": (205, 214, 222),
    "far": (168, 178, 190),
    "pavement": (168, 164, 158),
    "road": (92, 93, 98),
    "line": (225, 225, 220),
    "yellow": (222, 182, 60),
    "window_off": (88, 104, 122),
    "tree": (58, 96, 52),
}
_NIGHT: Final = {
    "sky_top": (6, 10, 28),
    "sky_bottom": (44, 40, 62),
    "far": (30, 32, 48),
    "pavement": (58, 56, 58),
    "road": (34, 34, 38),
    "line": (150, 150, 145),
    "yellow": (150, 120, 44),
    "window_off": (22, 24, 34),
    "tree": (14, 28, 18),
}
_BUILDING_DAY: Final = ((176, 170, 160), (150, 146, 142), (196, 186, 170), (120, 134, 150), (160, 120, 100))
_BUILDING_NIGHT: Final = ((38, 38, 46), (30, 32, 40), (46, 42, 44), (26, 30, 42), (40, 32, 30))
_CAR_COLOURS: Final = (
    (235, 235, 232),
    (180, 182, 186),
    (30, 30, 34),
    (168, 30, 34),
    (36, 70, 140),
    (40, 170, 160),  # Shanghai taxi turquoise
    (214, 190, 60),
    (110, 114, 120),
)
_CLOTHES: Final = ((40, 40, 48), (200, 60, 60), (60, 90, 160), (220, 220, 215), (90, 120, 70), (150, 110, 80))


def _shade(colour: tuple[int, ...], k: float, add: int = 0) -> RGB:
    """``colour`` scaled by ``k`` plus ``add``, clipped."""
    r, g, b = (max(0, min(255, int(c * k) + add)) for c in colour[:3])
    return r, g, b


def _seed_of(camera_id: str) -> int:
    return int.from_bytes(hashlib.blake2b(camera_id.encode(), digest_size=8).digest(), "big")


def _paint_sky(width: int, height: int, top: tuple[int, ...], bottom: tuple[int, ...]) -> Image.Image:
    t = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None, None] ** 1.4
    rgb = np.asarray(top, np.float32) * (1.0 - t) + np.asarray(bottom, np.float32) * t
    return Image.fromarray(np.broadcast_to(rgb, (height, width, 3)).astype(np.uint8), "RGB")


def _scene(
    width: int, height: int, rng: Random, night: bool
) -> tuple[Image.Image, list[tuple[float, float, float]], list[tuple[int, int, int, int]]]:
    """The static street in RGB, the lamps' glows (x, y, radius) to add at night, and the
    lamp posts' bounds (x0, y0, x1, y1; even) in front of the road."""
    s = height / 360.0
    pal = _NIGHT if night else _DAY
    image = _paint_sky(width, height, pal["sky_top"], pal["sky_bottom"])
    draw = ImageDraw.Draw(image)
    ground = round(0.52 * height)
    kerb_far = round(0.58 * height)
    kerb_near = round(0.86 * height)

    # A hazy skyline far behind.
    x = -rng.uniform(0, 40) * s
    while x < width:
        w = rng.uniform(30, 90) * s
        top = rng.uniform(0.28, 0.42) * height
        draw.rectangle((x, top, x + w, ground), fill=pal["far"])
        x += w + rng.uniform(-6, 10) * s

    # The buildings across the street, with windows and shop fronts.
    palette = _BUILDING_NIGHT if night else _BUILDING_DAY
    x = -rng.uniform(0, 60) * s
    while x < width:
        w = rng.uniform(70, 170) * s
        top = rng.uniform(0.24, 0.44) * height
        colour = palette[rng.randrange(len(palette))]
        draw.rectangle((x, top, x + w, ground), fill=colour)
        pitch_x, pitch_y = rng.uniform(11, 16) * s, rng.uniform(12, 16) * s
        win_w, win_h = pitch_x * 0.55, pitch_y * 0.5
        shop_top = ground - 14 * s
        wy = top + 6 * s
        while wy + win_h < shop_top - 3 * s:
            wx = x + 5 * s
            while wx + win_w < x + w - 4 * s:
                if night:
                    lit = rng.random() < 0.3
                    fill = (238, 206, 140) if lit else pal["window_off"]
                else:
                    fill = pal["window_off"]
                draw.rectangle((wx, wy, wx + win_w, wy + win_h), fill=fill)
                wx += pitch_x
            wy += pitch_y
        sign = ((200, 40, 40), (40, 90, 180), (230, 150, 40), (40, 150, 90))[rng.randrange(4)]
        if night:
            sign = _shade(sign, 1.2, 30)
        draw.rectangle((x + 6 * s, shop_top, x + w - 6 * s, shop_top + 4 * s), fill=sign)
        door = (230, 210, 160) if night else (70, 80, 90)
        draw.rectangle((x + 10 * s, shop_top + 6 * s, x + w - 10 * s, ground), fill=door)
        x += w + rng.uniform(0, 8) * s

    # Pavements, road, markings.
    draw.rectangle((0, ground, width, kerb_far), fill=pal["pavement"])
    draw.rectangle((0, kerb_far, width, kerb_near), fill=pal["road"])
    draw.rectangle((0, kerb_near, width, height), fill=pal["pavement"])
    kerb = _shade(pal["pavement"], 1.0, 30)
    draw.rectangle((0, kerb_far - 2 * s, width, kerb_far), fill=kerb)
    draw.rectangle((0, kerb_near, width, kerb_near + 2 * s), fill=kerb)
    centre = 0.72 * height
    draw.rectangle((0, centre - 2.5 * s, width, centre - 1 * s), fill=pal["yellow"])
    draw.rectangle((0, centre + 1 * s, width, centre + 2.5 * s), fill=pal["yellow"])
    for edge in (kerb_far + 5 * s, kerb_near - 5 * s):
        draw.rectangle((0, edge - 0.8 * s, width, edge + 0.8 * s), fill=pal["line"])
    crossing = rng.uniform(0.15, 0.85) * width
    for i in range(-3, 4):
        cx = crossing + i * 10 * s
        draw.rectangle((cx, kerb_far + 8 * s, cx + 5 * s, kerb_near - 8 * s), fill=pal["line"])
    pavement_line = _shade(pal["pavement"], 1.0, -14)
    for y in np.arange(kerb_near + 12 * s, height, 12 * s):
        draw.line((0, float(y), width, float(y)), fill=pavement_line, width=1)

    # Plane trees on the far pavement.
    x = rng.uniform(10, 80) * s
    while x < width:
        r = rng.uniform(16, 22) * s
        draw.rectangle((x - 1.5 * s, ground - 12 * s, x + 1.5 * s, ground + 4 * s), fill=(60, 48, 36))
        for dx, dy, k in ((-0.5, -0.6, 0.8), (0.5, -0.5, 0.85), (0.0, -1.0, 1.0)):
            cx, cy, rr = x + dx * r, ground - 14 * s + dy * r, r * k
            draw.ellipse((cx - rr, cy - rr * 0.8, cx + rr, cy + rr * 0.8), fill=pal["tree"])
        x += rng.uniform(110, 170) * s

    # Street lamps on the near pavement, arms over the road.
    glows: list[tuple[float, float, float]] = []
    posts: list[tuple[int, int, int, int]] = []
    x = rng.uniform(120, 220) * s
    pole = (70, 72, 78) if not night else (24, 24, 28)
    while x < width - 10 * s:
        top = 0.30 * height
        draw.rectangle((x - 1.5 * s, top, x + 1.5 * s, kerb_near + 6 * s), fill=pole)
        draw.rectangle((x - 24 * s, top, x + 1.5 * s, top + 2.5 * s), fill=pole)
        head = (255, 236, 190) if night else (200, 200, 196)
        draw.ellipse((x - 28 * s, top - 1 * s, x - 18 * s, top + 5 * s), fill=head)
        glows.append((x - 23 * s, top + 2 * s, 26 * s))
        posts.append((int(x - 1.5 * s) & ~1, kerb_far & ~1, (math.ceil(x + 1.5 * s) + 2) & ~1, kerb_near & ~1))
        x += rng.uniform(220, 320) * s
    return image, glows, posts


def _add_glows(rgb: F32, glows: list[tuple[float, float, float]], height: int) -> None:
    """Lamps' halos and the pools of light they cast on the road, added in place."""
    h, w = rgb.shape[:2]
    ys = np.arange(h, dtype=np.float32)[:, None]
    xs = np.arange(w, dtype=np.float32)[None, :]
    warm = np.asarray((255, 210, 140), np.float32)
    for gx, gy, r in glows:
        halo = np.exp(-((xs - gx) ** 2 + (ys - gy) ** 2) / (2 * r * r))
        pool_y = 0.70 * height
        pool = 0.35 * np.exp(-((xs - gx) ** 2 / (2 * (2.2 * r) ** 2) + (ys - pool_y) ** 2 / (2 * (0.9 * r) ** 2)))
        rgb += ((0.55 * halo + pool)[..., None] * warm).astype(np.float32)
    np.clip(rgb, 0, 255, out=rgb)


def _car(rng: Random, s: float, night: bool) -> Image.Image:
    length, height = round(rng.uniform(52, 62) * s), round(22 * s)
    colour = _CAR_COLOURS[rng.randrange(len(_CAR_COLOURS))]
    if night:
        colour = _shade(colour, 0.55)
    image = Image.new("RGBA", (length + 2, height + 2), (0, 0, 0, 0))
    d = ImageDraw.Draw(image)
    body_top, body_bottom = 0.42 * height, 0.84 * height
    d.polygon(
        [
            (0.2 * length, body_top),
            (0.32 * length, 0.06 * height),
            (0.7 * length, 0.06 * height),
            (0.86 * length, body_top),
        ],
        fill=colour,
    )
    glass = (18, 22, 30) if night else (50, 62, 76)
    d.polygon(
        [
            (0.26 * length, body_top),
            (0.35 * length, 0.14 * height),
            (0.67 * length, 0.14 * height),
            (0.79 * length, body_top),
        ],
        fill=glass,
    )
    d.line((0.52 * length, 0.14 * height, 0.52 * length, body_top), fill=colour, width=max(1, round(2 * s)))
    d.rounded_rectangle((0, body_top, length, body_bottom), radius=4 * s, fill=colour)
    for cx in (0.2 * length, 0.8 * length):
        r = 0.17 * height
        d.ellipse((cx - r, body_bottom - r, cx + r, body_bottom + r), fill=(12, 12, 14))
        d.ellipse((cx - r * 0.45, body_bottom - r * 0.45, cx + r * 0.45, body_bottom + r * 0.45), fill=(120, 120, 124))
    front = (255, 250, 220) if night else (230, 226, 200)
    d.rectangle((length - 4 * s, body_top + 2 * s, length, body_top + 5 * s), fill=front)
    d.rectangle((0, body_top + 2 * s, 3 * s, body_top + 5 * s), fill=(240, 30, 30) if night else (170, 30, 30))
    return image


def _bus(rng: Random, s: float, night: bool) -> Image.Image:
    length, height = round(rng.uniform(100, 118) * s), round(36 * s)
    colour = ((236, 236, 230), (60, 150, 90), (230, 140, 40))[rng.randrange(3)]
    if night:
        colour = _shade(colour, 0.5)
    image = Image.new("RGBA", (length + 2, height + 2), (0, 0, 0, 0))
    d = ImageDraw.Draw(image)
    d.rounded_rectangle((0, 0, length, 0.9 * height), radius=4 * s, fill=colour)
    glass = (200, 190, 140) if night else (50, 62, 76)
    d.rectangle((6 * s, 0.14 * height, length - 4 * s, 0.48 * height), fill=glass)
    for cx in (0.18 * length, 0.8 * length):
        r = 0.13 * height
        d.ellipse((cx - r, 0.9 * height - r, cx + r, 0.9 * height + r), fill=(12, 12, 14))
    d.rectangle((length - 3 * s, 0.7 * height, length, 0.8 * height), fill=(255, 250, 220))
    return image


def _ebike(rng: Random, s: float, night: bool) -> Image.Image:
    w, h = round(20 * s), round(26 * s)
    image = Image.new("RGBA", (w + 2, h + 2), (0, 0, 0, 0))
    d = ImageDraw.Draw(image)
    shirt = _CLOTHES[rng.randrange(len(_CLOTHES))]
    if night:
        shirt = _shade(shirt, 0.5)
    r = 4 * s
    for cx in (r, w - r):
        d.ellipse((cx - r, h - 2 * r, cx + r, h), outline=(10, 10, 12), width=max(1, round(1.5 * s)))
    d.rectangle((r, h - r - 3 * s, w - r, h - r), fill=(60, 60, 70))
    d.rectangle((0.35 * w, 0.25 * h, 0.65 * w, h - r - 3 * s), fill=shirt)
    helmet = ((230, 200, 40), (220, 60, 40), (240, 240, 240))[rng.randrange(3)]
    d.ellipse((0.36 * w, 0.02 * h, 0.64 * w, 0.25 * h), fill=helmet)
    if night:
        d.rectangle((w - 2 * s, h - r - 4 * s, w, h - r - 2 * s), fill=(255, 250, 220))
    return image


def _walker(rng: Random, s: float, night: bool) -> tuple[Image.Image, Image.Image]:
    """A pedestrian in two strides."""
    w, h = round(10 * s), round(26 * s)
    shirt = _CLOTHES[rng.randrange(len(_CLOTHES))]
    trousers = _CLOTHES[rng.randrange(len(_CLOTHES))]
    skin = (222, 190, 160)
    if night:
        shirt, trousers, skin = _shade(shirt, 0.7), _shade(trousers, 0.7), _shade(skin, 0.7)
    frames = []
    for stride in (0.0, 1.0):
        image = Image.new("RGBA", (w + 2, h + 2), (0, 0, 0, 0))
        d = ImageDraw.Draw(image)
        d.ellipse((0.3 * w, 0, 0.7 * w + 1, 0.18 * h), fill=skin)
        d.rectangle((0.25 * w, 0.18 * h, 0.75 * w, 0.58 * h), fill=shirt)
        spread = 0.3 * w * stride
        lw = max(1, round(2 * s))
        d.line((0.5 * w, 0.58 * h, 0.5 * w - spread, h), fill=trousers, width=lw)
        d.line((0.5 * w, 0.58 * h, 0.5 * w + spread, h), fill=trousers, width=lw)
        frames.append(image)
    return frames[0], frames[1]


def _aircraft(s: float, night: bool) -> tuple[Image.Image, Image.Image]:
    """An aircraft far away: by night its lights (on, then only the steady one), by day its shape."""
    w, h = round(16 * s) + 2, round(6 * s) + 2
    on = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    off = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    if night:
        for image, strobe in ((on, True), (off, False)):
            d = ImageDraw.Draw(image)
            d.rectangle((w / 2 - 1.5 * s, h / 2 - 1.5 * s, w / 2 + 1.5 * s, h / 2 + 1.5 * s), fill=(255, 70, 60))
            if strobe:
                d.rectangle((0, h / 2 - 1 * s, 2.5 * s, h / 2 + 1 * s), fill=(255, 255, 255))
                d.rectangle((w - 2.5 * s, h / 2 - 1 * s, w, h / 2 + 1 * s), fill=(255, 255, 255))
    else:
        for image in (on, off):
            d = ImageDraw.Draw(image)
            d.polygon([(0, h / 2), (w, h / 2 - 1.5 * s), (w, h / 2 + 1.5 * s)], fill=(90, 96, 110))
            d.polygon([(w * 0.45, 0), (w * 0.65, h / 2), (w * 0.35, h / 2)], fill=(90, 96, 110))
    return on, off


def _lane(
    rng: Random, width: int, bottom: float, speed: float, leftwards: bool, vehicles: list[Image.Image]
) -> list[_Mover]:
    """Vehicles in one lane at one speed, spaced so they never overlap."""
    sprites = [_Sprite.of(v) for v in vehicles]
    if leftwards:
        sprites = [sp.flipped() for sp in sprites]
    lead = max(sp.width for sp in sprites) + 2.0
    slot = lead * 1.6
    cycle = max(width + lead * 2.0, slot * len(sprites))
    spacing = cycle / len(sprites)
    start = rng.uniform(0, cycle)
    movers = []
    for i, sp in enumerate(sprites):
        phase = start + i * spacing + rng.uniform(0, max(0.0, spacing - slot))
        top = round(bottom - sp.y.shape[0]) & ~1
        movers.append(_Mover((sp,), top, speed, phase, cycle, lead, leftwards))
    return movers


class SyntheticCamera:
    """A simulated camera: :meth:`frame` gives its picture for a frame number and a time."""

    def __init__(
        self, camera_id: str, name: str, *, width: int = 640, height: int = 360, seed: int | None = None
    ) -> None:
        if width % 2 or height % 2 or width < MIN_WIDTH or height < MIN_HEIGHT:
            raise ValueError(f"a synthetic camera needs an even size of at least {MIN_WIDTH}x{MIN_HEIGHT}")
        self.camera_id = camera_id
        self.name = name
        self.width = width
        self.height = height
        rng = Random(_seed_of(camera_id) if seed is None else seed)
        self.night = rng.random() < 0.5
        s = height / 360.0

        scene, glows, self._posts = _scene(width, height, rng, self.night)
        rgb = np.asarray(scene, dtype=np.float32).copy()
        if self.night:
            _add_glows(rgb, glows, height)
        y, u, v = _rgb_to_yuv(rgb)
        u, v = _half(u), _half(v)
        self._draw_osd(y, u, v)
        self._draw_stamp_border(y, u, v)

        background = np.empty((height * 3 // 2, width), dtype=np.uint8)
        flat = background.reshape(-1)
        n = width * height
        flat[:n] = _u8(y).reshape(-1)
        flat[n : n * 5 // 4] = _u8(u).reshape(-1)
        flat[n * 5 // 4 :] = _u8(v).reshape(-1)
        self._background = background
        self._make_clock_tiles(background[:height])
        self._movers = self._make_movers(rng, s)

    # --- construction ----------------------------------------------------------------------

    def _draw_osd(self, y: F32, u: F32, v: F32) -> None:
        """The dark box in the top-left with the clock's fixed characters and the name."""
        h, w = self.height, self.width
        size = max(8, round(h * 0.05))
        pad = max(2, round(h * 0.012))
        margin = max(2, round(h * 0.02))
        name_size = size
        while name_size > 6 and _text_width(_font(name_size), self.name) > w - 2 * (margin + pad):
            name_size -= 1
        name_font = _font(name_size)
        cell, glyphs = _glyphs(size)
        widths = [cell if ch == "0" else glyphs[ch].shape[1] for ch in _CLOCK_TEMPLATE]
        line = glyphs["0"].shape[0]
        name_mask = _text_mask(name_font, self.name)
        box_w = min(w - 2 * margin, max(sum(widths), name_mask.shape[1]) + 2 * pad)
        box_h = line + name_mask.shape[0] + 2 * pad
        x0, y0 = margin & ~1, margin & ~1
        x1, y1 = min(w, x0 + box_w + 1) & ~1, min(h, y0 + box_h + 1) & ~1
        # Semi-transparent: the scene shows through, darkened and greyed.
        y[y0:y1, x0:x1] = BLACK + (y[y0:y1, x0:x1] - BLACK) * 0.35
        for c in (u, v):
            c[y0 // 2 : y1 // 2, x0 // 2 : x1 // 2] = 128.0 + (c[y0 // 2 : y1 // 2, x0 // 2 : x1 // 2] - 128.0) * 0.3

        tx, ty = x0 + pad, y0 + pad
        self._clock_cells: list[int] = []
        self._clock_top = ty
        self._clock_cell = cell
        for ch, cw in zip(_CLOCK_TEMPLATE, widths, strict=True):
            if ch == "0":
                self._clock_cells.append(tx)
            else:
                _paint(y, glyphs[ch], tx, ty)
            tx += cw
        _paint(y, name_mask, x0 + pad, ty + line)

    def _make_clock_tiles(self, luma: U8) -> None:
        """Every digit at every changing position of the clock, drawn on the box beneath."""
        cell, glyphs = _glyphs(max(8, round(self.height * 0.05)))
        top = self._clock_top
        rows = glyphs["0"].shape[0]
        tiles = np.empty((len(self._clock_cells), 10, rows, cell), dtype=np.uint8)
        for p, x in enumerate(self._clock_cells):
            under = luma[top : top + rows, x : x + cell].astype(np.float32)
            for d in range(10):
                tile = under.copy()
                _paint(tile, glyphs[str(d)], 0, 0)
                tiles[p, d] = _u8(tile)
        self._clock_tiles = tiles

    def _stamp_rect(self) -> tuple[int, int, int, int]:
        """The stamp's blocks' bounds (x0, y0, x1, y1) in pixels."""
        bw, bh = self.width / GRID_COLS, self.height / GRID_ROWS
        return (
            round(STAMP_COL0 * bw),
            round(STAMP_ROW0 * bh),
            round((STAMP_COL0 + STAMP_COLS) * bw),
            round((STAMP_ROW0 + STAMP_ROWS) * bh),
        )

    def _draw_stamp_border(self, y: F32, u: F32, v: F32) -> None:
        """Work out the stamp's pixels: a black frame around the blocks keeps the scene's edges
        out of them when the picture is scaled."""
        bw, bh = self.width / GRID_COLS, self.height / GRID_ROWS
        bx0, by0, bx1, by1 = self._stamp_rect()
        border = max(1, round(min(bw, bh) * 0.35))
        x0, y0 = max(0, bx0 - border) & ~1, max(0, by0 - border) & ~1
        x1, y1 = min(self.width, bx1 + border + 1) & ~1, min(self.height, by1 + border + 1) & ~1
        xs = np.arange(x0, x1)
        ys = np.arange(y0, y1)
        # Pixels map to blocks by the same rounded edges as the stamp's bounds.
        col_edges = np.array([round((STAMP_COL0 + i) * bw) for i in range(STAMP_COLS + 1)])
        row_edges = np.array([round((STAMP_ROW0 + i) * bh) for i in range(STAMP_ROWS + 1)])
        col = np.searchsorted(col_edges, xs, side="right") - 1
        row = np.searchsorted(row_edges, ys, side="right") - 1
        inside = (row[:, None] >= 0) & (row[:, None] < STAMP_ROWS) & (col[None, :] >= 0) & (col[None, :] < STAMP_COLS)
        index = np.where(inside, row[:, None] * STAMP_COLS + col[None, :], _BLOCKS)
        self._stamp_index = index.astype(np.intp)
        self._stamp_box = (x0, y0, x1, y1)
        y[y0:y1, x0:x1] = BLACK
        u[y0 // 2 : y1 // 2, x0 // 2 : x1 // 2] = 128.0
        v[y0 // 2 : y1 // 2, x0 // 2 : x1 // 2] = 128.0

    def _make_movers(self, rng: Random, s: float) -> list[_Mover]:
        w, h, night = self.width, self.height, self.night
        movers: list[_Mover] = []
        # The aircraft, high in the sky, slow.
        on, off = _aircraft(s, night)
        plane_on, plane_off = _Sprite.of(on), _Sprite.of(off)
        leftwards = rng.random() < 0.5
        if leftwards:
            plane_on, plane_off = plane_on.flipped(), plane_off.flipped()
        lead = plane_on.width + 2.0
        movers.append(
            _Mover(
                (plane_on, plane_off),
                round(0.205 * h) & ~1,
                rng.uniform(8, 14) * s,
                rng.uniform(0, w),
                w + lead + rng.uniform(40, 200) * s,
                lead,
                leftwards,
                blink_s=0.6 if night else 0.0,
            )
        )
        # Pedestrians on the far pavement.
        for _ in range(rng.randint(3, 5)):
            a, b = _walker(rng, s, night)
            frames = (_Sprite.of(a), _Sprite.of(b))
            left = rng.random() < 0.5
            if left:
                frames = (frames[0].flipped(), frames[1].flipped())
            lead = frames[0].width + 2.0
            movers.append(
                _Mover(
                    frames,
                    round(rng.uniform(0.555, 0.575) * h - frames[0].y.shape[0]) & ~1,
                    rng.uniform(14, 24) * s,
                    rng.uniform(0, w + lead),
                    w + lead + rng.uniform(0, 120) * s,
                    lead,
                    left,
                    step_s=0.3,
                )
            )
        movers.sort(key=lambda m: m.top)
        # Traffic: the far lane goes left, the near lane right; an e-bike on the near side.
        far = [_bus(rng, s, night) if rng.random() < 0.25 else _car(rng, s, night) for _ in range(rng.randint(3, 4))]
        near = [_bus(rng, s, night) if rng.random() < 0.2 else _car(rng, s, night) for _ in range(rng.randint(3, 4))]
        movers += _lane(rng, w, 0.705 * h, rng.uniform(90, 130) * s, True, far)
        movers += _lane(rng, w, 0.84 * h, rng.uniform(100, 150) * s, False, near)
        movers += _lane(rng, w, 0.852 * h, rng.uniform(40, 60) * s, False, [_ebike(rng, s, night)])
        return movers

    # --- per frame ---------------------------------------------------------------------------

    def frame(self, number: int, at: float) -> U8:
        """A yuv420p picture as one uint8 array of shape (height * 3 // 2, width), the layout
        ``av.VideoFrame.from_ndarray(array, format="yuv420p")`` takes: frame ``number`` (the
        frame counter) captured at ``at`` (unix seconds)."""
        w, h = self.width, self.height
        out = self._background.copy()
        flat = out.reshape(-1)
        n = w * h
        luma = out[:h]
        cu = flat[n : n * 5 // 4].reshape(h // 2, w // 2)
        cv = flat[n * 5 // 4 :].reshape(h // 2, w // 2)

        for m in self._movers:
            if m.blink_s and int(at / m.blink_s) % 2:
                sprite = m.frames[-1]
            elif m.step_s:
                sprite = m.frames[int(at / m.step_s) % len(m.frames)]
            else:
                sprite = m.frames[0]
            travelled = (m.phase + m.speed * at) % m.cycle
            x = (w - travelled) if m.leftwards else (travelled - m.lead)
            _blit(luma, cu, cv, sprite, int(x) & ~1, m.top)

        # The lamp posts stand on the near pavement, in front of the traffic.
        background = self._background
        bu = background.reshape(-1)[n : n * 5 // 4].reshape(h // 2, w // 2)
        bv = background.reshape(-1)[n * 5 // 4 :].reshape(h // 2, w // 2)
        for x0, y0, x1, y1 in self._posts:
            luma[y0:y1, x0:x1] = background[y0:y1, x0:x1]
            cu[y0 // 2 : y1 // 2, x0 // 2 : x1 // 2] = bu[y0 // 2 : y1 // 2, x0 // 2 : x1 // 2]
            cv[y0 // 2 : y1 // 2, x0 // 2 : x1 // 2] = bv[y0 // 2 : y1 // 2, x0 // 2 : x1 // 2]

        stamp = make_stamp(number, at)
        total_ms = math.floor(at * 1000.0)
        local = datetime.fromtimestamp(total_ms // 1000, SHANGHAI)
        digits = (
            f"{local.year:04d}{local.month:02d}{local.day:02d}{local.hour:02d}{local.minute:02d}"
            f"{local.second:02d}{total_ms % 1000:03d}{stamp.frame:08d}"
        )
        top, cell, tiles = self._clock_top, self._clock_cell, self._clock_tiles
        bottom = top + tiles.shape[2]
        for p, (x, ch) in enumerate(zip(self._clock_cells, digits, strict=True)):
            luma[top:bottom, x : x + cell] = tiles[p, ord(ch) - 48]

        x0, y0, x1, y1 = self._stamp_box
        luma[y0:y1, x0:x1] = _stamp_levels(stamp)[self._stamp_index]
        cu[y0 // 2 : y1 // 2, x0 // 2 : x1 // 2] = 128
        cv[y0 // 2 : y1 // 2, x0 // 2 : x1 // 2] = 128
        return out


def _paint(plane: F32, coverage: F32, x: int, y: int) -> None:
    """White text of ``coverage`` over ``plane`` at (x, y), clipped, in place."""
    h, w = plane.shape
    ch, cw = coverage.shape
    x1, y1 = min(w, x + cw), min(h, y + ch)
    if x1 <= x or y1 <= y:
        return
    a = coverage[: y1 - y, : x1 - x]
    region = plane[y:y1, x:x1]
    region[...] = region * (1.0 - a) + WHITE * a


def _blit(luma: U8, cu: U8, cv: U8, sprite: _Sprite, x: int, y: int) -> None:
    """Copy ``sprite`` with its masks to (x, y), both even, clipped at the picture's sides."""
    h, w = sprite.y.shape
    width = luma.shape[1]
    x0, x1 = max(0, x), min(width, x + w)
    if x1 <= x0:
        return
    sx0, sx1 = x0 - x, x1 - x
    np.copyto(luma[y : y + h, x0:x1], sprite.y[:, sx0:sx1], where=sprite.mask[:, sx0:sx1])
    cy, cx0, cx1, csx0, csx1 = y // 2, x0 // 2, x1 // 2, sx0 // 2, sx1 // 2
    ch = h // 2
    cmask = sprite.cmask[:, csx0:csx1]
    np.copyto(cu[cy : cy + ch, cx0:cx1], sprite.u[:, csx0:csx1], where=cmask)
    np.copyto(cv[cy : cy + ch, cx0:cx1], sprite.v[:, csx0:csx1], where=cmask)
