"""The fallback unit grid code, for when no district map is loaded.

A GB/T 30428.1-2013 unit grid code has 15 digits: the 6-digit county-level division code, the
3-digit street (街道/乡镇) code, the 3-digit community (社区) code and a 3-digit sequence number
of the cell within its community. Our street codes carry the first two parts as 9 digits
(``310107005``).

The real codes come from the unit grid that ``cityops setup-data`` builds
(:meth:`app.domain.district.DistrictMap.cell_code_at`; see :mod:`app.geodata.build` for how its
communities are approximated). When those layers are not loaded, :func:`cell_code` gives a code
of the same layout from a synthetic lattice instead: squares of :data:`CELL_DEG` degrees from
:data:`ORIGIN`, the row (counted southwards) as the community part and the column (counted
eastwards) as the sequence part, both from 001. These fallback codes do not match the real
grid's cell codes; they only keep the code's shape.
"""

from __future__ import annotations

import math
from typing import Final

ORIGIN: Final = (121.31, 31.31)
"""North-west corner (WGS84 lon, lat) of the fallback lattice, north-west of Putuo."""
CELL_DEG: Final = 0.005
"""Cell size in degrees: about 475 m east-west and 555 m north-south at Putuo's latitude."""
MAX_INDEX: Final = 998
"""Rows and columns are clamped to 0..998, so both parts stay within 001..999."""


def cell_code(street: str, lon: float, lat: float) -> str:
    """The fallback 15-digit cell code of a point in ``street`` (a 9-digit street code)."""
    row = min(MAX_INDEX, max(0, math.floor((ORIGIN[1] - lat) / CELL_DEG)))
    col = min(MAX_INDEX, max(0, math.floor((lon - ORIGIN[0]) / CELL_DEG)))
    return f"{street[:9]}{row + 1:03d}{col + 1:03d}"
