"""Grid cell codes (网格) after GB/T 30428.1: 6 digits of region, 3 of street, 3 of community,
3 of sequence.

No official grid layer ships with the system. Until one is placed in the data directory, cells
are squares of :data:`CELL_DEG` degrees over the district, numbered by row (as the community
part) and column (as the sequence part) from :data:`ORIGIN`.
"""

from __future__ import annotations

import math
from typing import Final

ORIGIN: Final = (121.33, 31.20)
"""South-west corner (WGS84 lon, lat) of the cell numbering, south-west of Putuo."""
CELL_DEG: Final = 0.005
"""Cell size in degrees: about 475 m east-west and 555 m north-south at Putuo's latitude."""


def cell_code(street: str, lon: float, lat: float) -> str:
    """The 15-digit cell code of a point in ``street`` (a 9-digit street code)."""
    row = min(999, max(0, math.floor((lat - ORIGIN[1]) / CELL_DEG)))
    col = min(999, max(0, math.floor((lon - ORIGIN[0]) / CELL_DEG)))
    return f"{street[:9]}{row:03d}{col:03d}"
