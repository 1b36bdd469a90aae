"""The district's local time (Asia/Shanghai, UTC+8 all year, no daylight saving): days,
hours and day boundaries for deadlines' reports, alarm hours, evaluation periods and the
vital signs."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Final

UTC_OFFSET_S: Final = 8 * 3600
SHANGHAI: Final = timezone(timedelta(seconds=UTC_OFFSET_S), "Asia/Shanghai")


def local_day(t: float) -> str:
    """The local day of ``t`` as ``YYYY-MM-DD``."""
    return datetime.fromtimestamp(t, SHANGHAI).date().isoformat()


def local_day_start(day: date) -> float:
    """Epoch seconds of the local midnight that begins ``day``."""
    return datetime(day.year, day.month, day.day, tzinfo=SHANGHAI).timestamp()


def day_start(t: float) -> float:
    """Epoch seconds of the local midnight at or before ``t``."""
    local = t + UTC_OFFSET_S
    return local - local % 86400.0 - UTC_OFFSET_S


def local_hour(t: float) -> int:
    return datetime.fromtimestamp(t, SHANGHAI).hour
