"""The heat layer's image: a histogram of incident positions, blurred and coloured.

Qt-free; the view wraps the RGBA array in a QImage and draws it scaled. The histogram covers
the clustered area (the view and a margin) in bins of about four screen pixels, so a pan
inside that area reuses the image and a zoom recomputes it.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from widgets.map.projection import FloatArray

RGBA = npt.NDArray[np.uint8]

#: Colour ramp stops: (position 0..1, r, g, b, alpha). Low densities fade out entirely.
RAMP_STOPS = (
    (0.00, 30, 60, 200, 0),
    (0.15, 30, 90, 230, 90),
    (0.35, 0, 200, 220, 140),
    (0.60, 250, 230, 40, 175),
    (0.80, 250, 140, 20, 200),
    (1.00, 230, 30, 30, 220),
)


def ramp(size: int = 256) -> RGBA:
    """The colour ramp as a (size, 4) premultiplied RGBA table."""
    t = np.linspace(0.0, 1.0, size)
    stops = np.asarray(RAMP_STOPS, dtype=np.float64)
    table = np.stack([np.interp(t, stops[:, 0], stops[:, k]) for k in range(1, 5)], axis=1)
    table[:, :3] *= table[:, 3:4] / 255.0  # premultiplied alpha, as Qt's fast path wants it
    return np.round(table).astype(np.uint8)


_RAMP = ramp()


Float32Array = npt.NDArray[np.float32]


def _box_blur(a: Float32Array, radius: int, axis: int) -> Float32Array:
    """Moving average of width 2*radius+1 along ``axis`` (zero beyond the edges)."""
    if radius <= 0:
        return a
    pad = [(0, 0), (0, 0)]
    pad[axis] = (radius + 1, radius)
    c = np.cumsum(np.pad(a, pad), axis=axis, dtype=np.float32)
    width = 2 * radius + 1
    out = c[width:] - c[:-width] if axis == 0 else c[:, width:] - c[:, :-width]
    out *= np.float32(1.0 / width)
    return out


def blur(a: Float32Array, radius: int) -> Float32Array:
    """An approximate Gaussian (three box passes per axis, separable), in float32: half
    the memory traffic of float64, and the image has 256 levels."""
    for _ in range(3):
        a = _box_blur(a, radius, 0)
        a = _box_blur(a, radius, 1)
    return a


def heat_image(
    x: FloatArray, y: FloatArray, area: tuple[float, float, float, float], bin_m: float, radius: int = 3
) -> RGBA:
    """An (rows, cols, 4) premultiplied RGBA image of the density of points (x, y) over
    ``area`` (x0, y0, x1, y1; metres, y north), one pixel per ``bin_m`` metres, row 0 at the
    north edge."""
    x0, y0, x1, y1 = area
    cols = max(1, int(np.ceil((x1 - x0) / bin_m)))
    rows = max(1, int(np.ceil((y1 - y0) / bin_m)))
    inside = (x >= x0) & (x < x1) & (y >= y0) & (y < y1)
    ci = ((x[inside] - x0) / bin_m).astype(np.int64)
    ri = ((y1 - y[inside]) / bin_m).astype(np.int64)
    np.clip(ci, 0, cols - 1, out=ci)
    np.clip(ri, 0, rows - 1, out=ri)
    counts = np.bincount(ri * cols + ci, minlength=rows * cols).reshape(rows, cols).astype(np.float32)
    density = blur(counts, radius)
    top = float(density.max())
    if top <= 0.0:
        return np.zeros((rows, cols, 4), dtype=np.uint8)
    # A log scale shows the outskirts as well as the hot spots.
    density *= np.float32(50.0 / top)
    np.log1p(density, out=density)
    density *= np.float32(255.0 / np.log1p(50.0))
    index = np.clip(density, 0, 255, out=density).astype(np.uint8)
    return _RAMP[index]
